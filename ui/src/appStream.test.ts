import { describe, expect, it } from 'vitest';
import { applyEvents, Batcher, parseAppEvent, type Timers } from './appStream';
import { emptyFilters } from './filters';
import { summary } from './testdata';
import type { AppEventData } from './types';

const ev = (type: AppEventData['type'], name: string, over = {}): AppEventData => ({
  type,
  application: summary(name, over),
});

describe('applyEvents', () => {
  const items = [summary('a'), summary('c'), summary('e')];

  it('adds in name order, replaces and deletes', () => {
    const out = applyEvents(items, [
      ev('ADDED', 'd'),
      ev('MODIFIED', 'a', { syncStatus: 'OutOfSync', resourceVersion: '2' }),
      ev('DELETED', 'e'),
      ev('ADDED', 'b'),
    ]);
    expect(out.map((a) => a.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(out[0].syncStatus).toBe('OutOfSync');
  });

  it('treats MODIFIED of an unknown app as an insert (it began to match)', () => {
    const out = applyEvents(items, [ev('MODIFIED', 'b')]);
    expect(out.map((a) => a.name)).toEqual(['a', 'b', 'c', 'e']);
  });

  it('lets the last event for a name win', () => {
    const out = applyEvents(items, [
      ev('MODIFIED', 'c', { healthStatus: 'Degraded', resourceVersion: '5' }),
      ev('DELETED', 'c'),
      ev('ADDED', 'x'),
      ev('DELETED', 'x'),
    ]);
    expect(out.map((a) => a.name)).toEqual(['a', 'e']);
  });

  it('ignores events older than the item (by resourceVersion)', () => {
    const list = [summary('a', { resourceVersion: '120', syncStatus: 'OutOfSync' })];
    expect(applyEvents(list, [ev('MODIFIED', 'a', { resourceVersion: '99' })])).toBe(list);
    expect(applyEvents(list, [ev('DELETED', 'a', { resourceVersion: '119' })])).toBe(list);
    expect(applyEvents(list, [ev('MODIFIED', 'a', { resourceVersion: '121' })])[0].syncStatus).toBe('Synced');
    // Opaque (non-numeric) versions are never older.
    const opaque = [summary('a', { resourceVersion: 'x2' })];
    expect(applyEvents(opaque, [ev('DELETED', 'a', { resourceVersion: 'x1' })])).toEqual([]);
  });

  it('returns the same array when nothing changed', () => {
    expect(applyEvents(items, [])).toBe(items);
    expect(applyEvents(items, [ev('MODIFIED', 'a')])).toBe(items);
    expect(applyEvents(items, [ev('DELETED', 'zz')])).toBe(items);
  });

  it('drops apps that stop matching the filters and ignores new ones that do not match', () => {
    const f = { ...emptyFilters(), sync: ['Synced'] };
    const out = applyEvents(items, [
      ev('MODIFIED', 'a', { syncStatus: 'OutOfSync', resourceVersion: '2' }),
      ev('ADDED', 'b', { syncStatus: 'OutOfSync' }),
      ev('ADDED', 'f'),
    ], f);
    expect(out.map((a) => a.name)).toEqual(['c', 'e', 'f']);
  });
});

class FakeTimers implements Timers {
  t = 0;
  private next = 1;
  private pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending.entries()]
        .filter(([, p]) => p.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

describe('Batcher', () => {
  it('delivers a burst as one batch and at most every interval', () => {
    const timers = new FakeTimers();
    const batches: number[][] = [];
    const b = new Batcher<number>((x) => batches.push(x), 250, timers);
    b.push(1);
    b.push(2);
    expect(batches).toEqual([]);
    timers.advance(0);
    expect(batches).toEqual([[1, 2]]);
    // Within 250 ms of that flush: wait.
    timers.advance(10);
    b.push(3);
    timers.advance(100);
    b.push(4);
    expect(batches).toEqual([[1, 2]]);
    timers.advance(139);
    expect(batches).toEqual([[1, 2]]);
    timers.advance(1);
    expect(batches).toEqual([[1, 2], [3, 4]]);
    // After a quiet period: at once.
    timers.advance(1000);
    b.push(5);
    timers.advance(0);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('flushes now and drops on dispose', () => {
    const timers = new FakeTimers();
    const batches: string[][] = [];
    const b = new Batcher<string>((x) => batches.push(x), 250, timers);
    b.push('a');
    b.flushNow();
    expect(batches).toEqual([['a']]);
    b.push('b');
    expect(b.pending).toBe(1);
    b.dispose();
    timers.advance(1000);
    expect(batches).toEqual([['a']]);
  });
});

describe('parseAppEvent', () => {
  it('accepts application events and rejects anything else', () => {
    expect(parseAppEvent(JSON.stringify(ev('ADDED', 'a')))?.application.name).toBe('a');
    expect(parseAppEvent('{"type":"NOPE","application":{"name":"a"}}')).toBeNull();
    expect(parseAppEvent('not json')).toBeNull();
  });
});
