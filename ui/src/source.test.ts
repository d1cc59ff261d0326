import { describe, expect, it } from 'vitest';
import { sourceLabel, sourceTitle } from './source';
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
