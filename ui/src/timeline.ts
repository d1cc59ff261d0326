// An app's timeline: its syncs (from the history) and what its Events say
// happened — syncs asked for, started, finished or failed, drift, self-heals,
// rollbacks, resource actions, hooks' objects failing — newest first.

import type { HistoryEntry, K8sEvent } from './types';

export type TimelineKind = 'sync' | 'request' | 'drift' | 'self-heal' | 'failure' | 'rollback' | 'action' | 'other';

export interface TimelineItem {
  kind: TimelineKind;
  /** RFC 3339 time. */
  at: string;
  /** One line for a person. */
  title: string;
  /** More, when there is some (an Event's message). */
  detail?: string;
}

/** What an Event's reason means on the timeline. */
export function kindOf(e: Pick<K8sEvent, 'reason' | 'type'>): TimelineKind {
  switch (e.reason) {
    case 'SyncSucceeded':
    case 'SyncStarted':
      return 'sync';
    case 'SyncRequested':
    case 'RollbackRequested':
    case 'TerminateRequested':
    case 'DeleteRequested':
      return 'request';
    case 'DriftDetected':
    case 'FightDetected':
      return 'drift';
    case 'SelfHealApplied':
      return 'self-heal';
    case 'RolledBack':
      return 'rollback';
    case 'ResourceActionRan':
      return 'action';
    case 'SyncFailed':
      return 'failure';
    default:
      return e.type === 'Warning' ? 'failure' : 'other';
  }
}

const short = (rev?: string) => (rev ? rev.slice(0, 7) : '?');

/** The history and the Events as one list, newest first. Events of the
 * app's objects count only when they are warnings (a hook's Job failing, a
 * Pod that cannot start); the app's own Events all count. */
export function buildTimeline(history: readonly HistoryEntry[], events: readonly K8sEvent[], app: string): TimelineItem[] {
  const items: TimelineItem[] = [];
  for (const h of history) {
    const at = h.deployedAt ?? h.deployStartedAt;
    if (!at) continue;
    const rev = h.revision ?? h.revisions?.map(short).join(', ');
    const by = h.initiatedBy?.automated ? 'automatically' : h.initiatedBy?.username ? `by ${h.initiatedBy.username}` : '';
    items.push({ kind: 'sync', at, title: `Synced to ${h.revision ? short(rev) : rev} ${by}`.trim() });
  }
  const own = `Application/`;
  for (const e of events) {
    if (!e.lastSeen) continue;
    const isApp = e.object.startsWith(own) && e.object.endsWith(`/${app}`);
    const kind = kindOf(e);
    if (!isApp && e.type !== 'Warning') continue;
    // The history already says when a sync ended well.
    if (isApp && e.reason === 'SyncSucceeded') continue;
    items.push({
      kind,
      at: e.lastSeen,
      title: isApp ? e.reason.replace(/([a-z])([A-Z])/g, '$1 $2') : `${e.reason} on ${e.object}`,
      detail: e.message,
    });
  }
  return items.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}
