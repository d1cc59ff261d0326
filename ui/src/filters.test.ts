import { describe, expect, it } from 'vitest';
import {
  countStatuses,
  countText,
  emptyFilters,
  filtersToApiQuery,
  filtersToSearch,
  matchesFilters,
  parseFilters,
  parseSelector,
  toggle,
} from './filters';
import { summary } from './testdata';

describe('URL <-> filters', () => {
  it('parses comma lists, repeated keys and texts', () => {
    const f = parseFilters('?sync=OutOfSync,Unknown&health=Degraded&health=Missing&search=%20web%20&view=tiles');
    expect(f.sync).toEqual(['OutOfSync', 'Unknown']);
    expect(f.health).toEqual(['Degraded', 'Missing']);
    expect(f.search).toBe('web');
    expect(f.view).toBe('tiles');
    expect(f.project).toEqual([]);
  });

  it('ignores empty parts, duplicates and unknown views', () => {
    const f = parseFilters('project=a,,b,a&view=grid');
    expect(f.project).toEqual(['a', 'b']);
    expect(f.view).toBe('list');
  });

  it('writes a stable, minimal query and reads it back', () => {
    const f = { ...emptyFilters(), health: ['Degraded'], sync: ['OutOfSync'], selector: 'team=a,!legacy', view: 'tiles' as const };
    const s = filtersToSearch(f);
    expect(s).toBe('sync=OutOfSync&health=Degraded&selector=team%3Da%2C%21legacy&view=tiles');
    expect(parseFilters(s)).toEqual(f);
    expect(filtersToSearch(emptyFilters())).toBe('');
  });

  it('gives the API only the filters (not the view)', () => {
    const f = { ...emptyFilters(), project: ['x', 'y'], cluster: ' in-cluster ', view: 'tiles' as const };
    expect(filtersToApiQuery(f)).toEqual({ project: 'x,y', cluster: 'in-cluster' });
  });

  it('toggles list values', () => {
    const f = toggle(emptyFilters(), 'sync', 'Synced');
    expect(f.sync).toEqual(['Synced']);
    expect(toggle(f, 'sync', 'Synced').sync).toEqual([]);
  });
});

describe('client-side matching', () => {
  const app = summary('web', { labels: { team: 'a' }, repoUrl: 'https://git.example/Repo.git/' });

  it('matches like the server', () => {
    expect(matchesFilters(app, emptyFilters())).toBe(true);
    expect(matchesFilters(app, { ...emptyFilters(), search: 'WE' })).toBe(true);
    expect(matchesFilters(app, { ...emptyFilters(), search: 'api' })).toBe(false);
    expect(matchesFilters(app, { ...emptyFilters(), sync: ['OutOfSync'] })).toBe(false);
    expect(matchesFilters(app, { ...emptyFilters(), repo: 'https://git.example/repo' })).toBe(true);
    expect(matchesFilters(app, { ...emptyFilters(), cluster: 'in-cluster' })).toBe(true);
    expect(matchesFilters(app, { ...emptyFilters(), namespace: 'other' })).toBe(false);
  });

  it('applies label selectors', () => {
    const m = (selector: string) => matchesFilters(app, { ...emptyFilters(), selector });
    expect(m('team=a')).toBe(true);
    expect(m('team==a')).toBe(true);
    expect(m('team!=a')).toBe(false);
    expect(m('team')).toBe(true);
    expect(m('!team')).toBe(false);
    expect(m('tier!=db, team')).toBe(true);
    expect(m('bad key')).toBe(false);
    expect(() => parseSelector('=x')).toThrow(/not key=value/);
  });

  it('counts statuses', () => {
    const c = countStatuses([app, summary('b', { syncStatus: 'OutOfSync' }), summary('c')]);
    expect(c.sync).toEqual({ Synced: 2, OutOfSync: 1 });
    expect(c.health).toEqual({ Healthy: 3 });
  });
});

describe('countText', () => {
  it('says how many apps are shown, and how many are on their way', () => {
    expect(countText(true, 0, null)).toBe('loading…');
    expect(countText(true, 100, 10003)).toBe('100 of 10003 apps, loading…');
    expect(countText(false, 10003, null)).toBe('10003 apps');
    expect(countText(false, 1, null)).toBe('1 app');
  });
});
