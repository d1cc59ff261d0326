// The application list's filters, kept in the page's URL query so a view
// can be bookmarked and shared, and the same filters applied on the
// client to live updates (so an app that stops matching leaves the list).

import type { AppSummary, Counts } from './types';

export type View = 'list' | 'tiles';

export interface Filters {
  project: string[];
  sync: string[];
  health: string[];
  selector: string;
  search: string;
  repo: string;
  cluster: string;
  namespace: string;
  view: View;
}

export const SYNC_STATUSES = ['Synced', 'OutOfSync', 'Unknown'] as const;
export const HEALTH_STATUSES = [
  'Healthy',
  'Progressing',
  'Degraded',
  'Suspended',
  'Missing',
  'Unknown',
] as const;

export const emptyFilters = (): Filters => ({
  project: [],
  sync: [],
  health: [],
  selector: '',
  search: '',
  repo: '',
  cluster: '',
  namespace: '',
  view: 'list',
});

const LISTS = ['project', 'sync', 'health'] as const;
const TEXTS = ['selector', 'search', 'repo', 'cluster', 'namespace'] as const;

function splitList(value: string | null): string[] {
  if (!value) return [];
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const t = part.trim();
    if (t) seen.add(t);
  }
  return [...seen];
}

/** The filters in a URL query (`?sync=OutOfSync,Unknown&search=web`). */
export function parseFilters(search: string | URLSearchParams): Filters {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const f = emptyFilters();
  for (const k of LISTS) {
    // Accept both `sync=A,B` and repeated `sync=A&sync=B`.
    f[k] = splitList(q.getAll(k).join(','));
  }
  for (const k of TEXTS) f[k] = (q.get(k) ?? '').trim();
  f.view = q.get('view') === 'tiles' ? 'tiles' : 'list';
  return f;
}

/** The URL query of `f` (without `?`); empty filters are left out, the
 * order is fixed so equal filters give equal URLs. */
export function filtersToSearch(f: Filters): string {
  const q = new URLSearchParams();
  for (const k of LISTS) if (f[k].length) q.set(k, f[k].join(','));
  for (const k of TEXTS) if (f[k].trim()) q.set(k, f[k].trim());
  if (f.view !== 'list') q.set('view', f.view);
  return q.toString();
}

/** The list route's query parameters for `f`. */
export function filtersToApiQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  for (const k of LISTS) if (f[k].length) q[k] = f[k].join(',');
  for (const k of TEXTS) if (f[k].trim()) q[k] = f[k].trim();
  return q;
}

export function hasFilters(f: Filters): boolean {
  return Object.keys(filtersToApiQuery(f)).length > 0;
}

/** Toggle `value` in one of the list filters. */
export function toggle(f: Filters, key: 'project' | 'sync' | 'health', value: string): Filters {
  const list = f[key].includes(value) ? f[key].filter((v) => v !== value) : [...f[key], value];
  return { ...f, [key]: list };
}

type Term =
  | { op: 'eq'; key: string; value: string }
  | { op: 'ne'; key: string; value: string }
  | { op: 'exists'; key: string }
  | { op: 'absent'; key: string };

/** A label selector as the server reads it; throws on a malformed term. */
export function parseSelector(text: string): Term[] {
  const terms: Term[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    let term: Term;
    const ne = part.indexOf('!=');
    const eq2 = part.indexOf('==');
    const eq = part.indexOf('=');
    if (ne >= 0) {
      term = { op: 'ne', key: part.slice(0, ne).trim(), value: part.slice(ne + 2).trim() };
    } else if (eq2 >= 0) {
      term = { op: 'eq', key: part.slice(0, eq2).trim(), value: part.slice(eq2 + 2).trim() };
    } else if (eq >= 0) {
      term = { op: 'eq', key: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() };
    } else if (part.startsWith('!')) {
      term = { op: 'absent', key: part.slice(1).trim() };
    } else {
      term = { op: 'exists', key: part };
    }
    if (!term.key || /\s/.test(term.key)) {
      throw new Error(
        `label selector term "${part}" is not key=value, key!=value, key or !key`,
      );
    }
    terms.push(term);
  }
  return terms;
}

const normaliseRepo = (url: string): string =>
  url.trim().replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();

/** Whether `app` passes `f`, as the server decides it. */
export function matchesFilters(app: AppSummary, f: Filters): boolean {
  if (f.project.length && !f.project.includes(app.project)) return false;
  if (f.sync.length && !f.sync.includes(app.syncStatus)) return false;
  if (f.health.length && !f.health.includes(app.healthStatus)) return false;
  const search = f.search.trim().toLowerCase();
  if (search && !app.name.toLowerCase().includes(search)) return false;
  if (f.repo.trim() && normaliseRepo(app.repoUrl) !== normaliseRepo(f.repo)) return false;
  const cluster = f.cluster.trim();
  if (cluster && app.destServer !== cluster && app.destName !== cluster) return false;
  const ns = f.namespace.trim();
  if (ns && app.destNamespace !== ns) return false;
  let terms: Term[];
  try {
    terms = parseSelector(f.selector);
  } catch {
    return false;
  }
  const labels = app.labels ?? {};
  return terms.every((t) => {
    const has = Object.prototype.hasOwnProperty.call(labels, t.key);
    switch (t.op) {
      case 'eq':
        return has && labels[t.key] === t.value;
      case 'ne':
        return !has || labels[t.key] !== t.value;
      case 'exists':
        return has;
      case 'absent':
        return !has;
    }
  });
}

/** Counts per sync and health status of `apps`. */
export function countStatuses(apps: readonly AppSummary[]): Counts {
  const counts: Counts = { sync: {}, health: {} };
  for (const a of apps) {
    counts.sync[a.syncStatus] = (counts.sync[a.syncStatus] ?? 0) + 1;
    counts.health[a.healthStatus] = (counts.health[a.healthStatus] ?? 0) + 1;
  }
  return counts;
}

/** The page title's count: the apps shown, with how many are still on
 * their way while the list loads. */
export function countText(loading: boolean, shown: number, expected: number | null): string {
  if (loading && expected !== null) return `${shown} of ${expected} apps, loading…`;
  if (loading) return 'loading…';
  return `${shown} ${shown === 1 ? 'app' : 'apps'}`;
}
