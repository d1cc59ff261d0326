// What an app deploys, in a few words, for lists and tiles.
import type { AppSource, AppSummary, Application } from './types';

/** Its path in Git, or the chart of a chart repository (`chart web`). */
export function sourceLabel(app: Pick<AppSummary, 'repoUrl' | 'path' | 'chart'>): string {
  if (app.chart) return `chart ${app.chart}`;
  return app.path || app.repoUrl;
}

/** The full form, for a title: repository, path or chart, revision. */
export function sourceTitle(app: Pick<AppSummary, 'repoUrl' | 'path' | 'chart' | 'targetRevision'>): string {
  const what = app.chart ? `chart ${app.chart}` : app.path;
  return `${app.repoUrl} ${what} @ ${app.targetRevision}`;
}

/** The app's sources: `spec.source`, or each of `spec.sources`. */
export function sourcesOf(spec: Application['spec']): AppSource[] {
  if (spec.sources && spec.sources.length > 0) return spec.sources;
  return spec.source ? [spec.source] : [];
}

/** One source in a line: repository, path or chart, revision; a source
 * that only lends its files (`ref` without a path or chart) says so. */
export function sourceLine(s: AppSource): string {
  const what = s.chart ? `chart ${s.chart}` : s.path || (s.ref ? `(files as $${s.ref})` : '');
  const ref = s.ref && (s.chart || s.path) ? ` (ref ${s.ref})` : '';
  return `${s.repoURL ?? ''} ${what} @ ${s.targetRevision || 'HEAD'}${ref}`.replace(/\s+/g, ' ').trim();
}

/** The revision a sync goes to by default: the source's targetRevision,
 * or for several sources theirs joined by commas (one per source, as the
 * API takes them). */
export function defaultRevision(spec: Application['spec']): string {
  const list = sourcesOf(spec);
  if (list.length > 1) return list.map((s) => s.targetRevision || 'HEAD').join(',');
  return list[0]?.targetRevision || 'HEAD';
}
