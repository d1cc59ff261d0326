// Live updates of the application list: events from the SSE stream are
// queued and applied in batches (at most every 250 ms), so a burst of
// changes (a rollout touching hundreds of apps) renders once.

import { matchesFilters, type Filters } from './filters';
import type { AppEventData, AppSummary } from './types';

const byName = (a: AppSummary, b: AppSummary): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * `items` (sorted by name, as the server lists them) after `events`, in
 * order. ADDED and MODIFIED insert or replace the app when it passes
 * `filters` and remove it when it no longer does; DELETED removes it. An
 * event older than the item it names (by resourceVersion) is ignored.
 * Returns `items` itself when nothing changed.
 */
export function applyEvents(
  items: readonly AppSummary[],
  events: readonly AppEventData[],
  filters?: Filters,
): readonly AppSummary[] {
  if (events.length === 0) return items;
  // The last event for a name wins.
  const last = new Map<string, AppEventData>();
  for (const e of events) last.set(e.application.name, e);
  let changed = false;
  const out: AppSummary[] = [];
  for (const app of items) {
    const e = last.get(app.name);
    if (!e) {
      out.push(app);
      continue;
    }
    last.delete(app.name);
    if (isOlder(e.application.resourceVersion, app.resourceVersion)) {
      // An event from before this item was read (a stream that started
      // earlier than the list): the item is newer.
      out.push(app);
      continue;
    }
    if (e.type === 'DELETED' || (filters && !matchesFilters(e.application, filters))) {
      changed = true;
      continue;
    }
    if (e.application.resourceVersion !== app.resourceVersion || !sameSummary(app, e.application)) {
      changed = true;
      out.push(e.application);
    } else {
      out.push(app);
    }
  }
  const added: AppSummary[] = [];
  for (const e of last.values()) {
    if (e.type === 'DELETED') continue;
    if (filters && !matchesFilters(e.application, filters)) continue;
    added.push(e.application);
  }
  if (added.length) {
    changed = true;
    out.push(...added);
    out.sort(byName);
  }
  return changed ? out : items;
}

/** Whether resourceVersion `a` is older than `b`. They are opaque to
 * clients, but in practice integers; anything else is never older. */
export function isOlder(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length !== b.length ? a.length < b.length : a < b;
}

function sameSummary(a: AppSummary, b: AppSummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * Collects items and hands them to `flush` in batches, at most one batch
 * every `interval` ms. The first item after a quiet period goes out on the
 * next tick (with whatever arrived in the same tick); items arriving
 * sooner than `interval` after a flush wait for the next one.
 */
export class Batcher<T> {
  private queue: T[] = [];
  private timer: unknown = null;
  private lastFlush = -Infinity;
  private readonly flush: (batch: T[]) => void;
  private readonly interval: number;
  private readonly timers: Timers;

  constructor(flush: (batch: T[]) => void, interval = 250, timers: Timers = realTimers) {
    this.flush = flush;
    this.interval = interval;
    this.timers = timers;
  }

  push(item: T): void {
    this.queue.push(item);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.interval - this.timers.now());
    this.timer = this.timers.setTimeout(() => this.run(), wait);
  }

  /** Deliver what is queued now. */
  flushNow(): void {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    this.run();
  }

  /** Drop what is queued and stop. */
  dispose(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }

  get pending(): number {
    return this.queue.length;
  }

  private run(): void {
    this.timer = null;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.lastFlush = this.timers.now();
    this.flush(batch);
  }
}

/** Parse one `application` event's data; null when it is not one. */
export function parseAppEvent(data: string): AppEventData | null {
  try {
    const v = JSON.parse(data) as Partial<AppEventData>;
    if (
      (v.type === 'ADDED' || v.type === 'MODIFIED' || v.type === 'DELETED') &&
      v.application &&
      typeof v.application.name === 'string'
    ) {
      return v as AppEventData;
    }
  } catch {
    // fall through
  }
  return null;
}
