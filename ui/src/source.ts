// What an app deploys, in a few words, for lists and tiles.
import type { AppSummary } from './types';

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
