import { describe, expect, it } from 'vitest';
import { defaultRevision, sourceLabel, sourceLine, sourcesOf, sourceTitle } from './source';
import { summary } from './testdata';

describe('sourceLabel', () => {
  it('names the path of a Git source, else its repository', () => {
    expect(sourceLabel(summary('web'))).toBe('apps/web');
    expect(sourceLabel(summary('web', { path: '' }))).toBe('https://git.example/repo');
  });

  it('names the chart of a chart repository, with the range in the title', () => {
    const app = summary('cm', {
      repoUrl: 'https://charts.jetstack.io',
      path: '',
      chart: 'cert-manager',
      targetRevision: 'v1.16.*',
    });
    expect(sourceLabel(app)).toBe('chart cert-manager');
    expect(sourceTitle(app)).toBe('https://charts.jetstack.io chart cert-manager @ v1.16.*');
  });
});

describe('several sources', () => {
  const spec = {
    project: 'default',
    sources: [
      { repoURL: 'https://charts.example.com', chart: 'web', targetRevision: '1.2.*' },
      { repoURL: 'https://git.example/values.git', ref: 'values', targetRevision: 'main' },
      { repoURL: 'https://git.example/extra.git', path: 'extra' },
    ],
  };

  it('lists every source in a line, the lender by its ref', () => {
    expect(sourcesOf(spec).map(sourceLine)).toEqual([
      'https://charts.example.com chart web @ 1.2.*',
      'https://git.example/values.git (files as $values) @ main',
      'https://git.example/extra.git extra @ HEAD',
    ]);
  });

  it('syncs to one revision per source by default, commas between', () => {
    expect(defaultRevision(spec)).toBe('1.2.*,main,HEAD');
    expect(defaultRevision({ source: { repoURL: 'r', targetRevision: 'v2' } })).toBe('v2');
    expect(defaultRevision({})).toBe('HEAD');
    expect(sourcesOf({ source: { repoURL: 'r' }, sources: [] })).toEqual([{ repoURL: 'r' }]);
  });
});
