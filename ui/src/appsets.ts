// What the ApplicationSets page shows of a set, computed from the API's
// object: its generators in words, and whether its last pass went well.

import type { ApplicationSet } from './types';

/** The generator kinds of a set, nested ones in brackets:
 * `git directories`, `matrix(clusters, git directories)`. */
export function describeGenerators(generators: Record<string, unknown>[] = []): string {
  return generators.map(describeOne).join(', ') || 'none';
}

function describeOne(g: Record<string, unknown>): string {
  for (const kind of ['matrix', 'merge'] as const) {
    const c = g[kind] as { generators?: Record<string, unknown>[] } | undefined;
    if (c) return `${kind}(${(c.generators ?? []).map(describeOne).join(', ')})`;
  }
  const git = g.git as { directories?: unknown[]; files?: unknown[]; repoURL?: string } | undefined;
  if (git) return git.files?.length ? 'git files' : 'git directories';
  const known = ['list', 'clusters'].find((k) => k in g);
  return known ?? (Object.keys(g).find((k) => k !== 'selector') || 'unknown');
}

/** The state of a set's last pass. */
export interface SetState {
  /** `ok`, `error` or `pending` (no status yet). */
  kind: 'ok' | 'error' | 'pending';
  /** The message to show. */
  message: string;
}

export function setState(set: ApplicationSet): SetState {
  const conditions = set.status?.conditions ?? [];
  const error = conditions.find((c) => c.type === 'ErrorOccurred' && c.status === 'True');
  if (error) return { kind: 'error', message: error.message || error.reason || 'error' };
  const upToDate = conditions.find((c) => c.type === 'ResourcesUpToDate');
  if (upToDate?.status === 'True') return { kind: 'ok', message: upToDate.message || 'up to date' };
  return { kind: 'pending', message: 'not reconciled yet' };
}

/** The ApplicationSet that made an app, from its owner references. */
export function ownerSet(refs?: { kind: string; name: string }[]): string | undefined {
  return refs?.find((r) => r.kind === 'ApplicationSet')?.name;
}
