import { describe, expect, it } from 'vitest';
import { describeGenerators, ownerSet, setState } from './appsets';
import type { ApplicationSet } from './types';

describe('describeGenerators', () => {
  it('names each kind, nested ones in brackets', () => {
    expect(describeGenerators([{ git: { repoURL: 'r', directories: [{ path: '*' }] } }])).toBe('git directories');
    expect(
      describeGenerators([
        { matrix: { generators: [{ clusters: {} }, { git: { files: [{ path: 'a.json' }] } }] } },
        { list: { elements: [] }, selector: {} },
      ]),
    ).toBe('matrix(clusters, git files), list');
    expect(describeGenerators([])).toBe('none');
  });
});

describe('setState', () => {
  const set = (conditions: NonNullable<ApplicationSet['status']>['conditions']): ApplicationSet => ({
    metadata: { name: 's' },
    spec: {},
    status: { conditions },
  });
  it('says error with the message when the last pass failed', () => {
    const s = setState(
      set([
        { type: 'ErrorOccurred', status: 'True', message: 'git: unreachable' },
        { type: 'ResourcesUpToDate', status: 'False' },
      ]),
    );
    expect(s).toEqual({ kind: 'error', message: 'git: unreachable' });
  });
  it('says ok when up to date, pending before the first pass', () => {
    expect(setState(set([{ type: 'ResourcesUpToDate', status: 'True', message: '3 Applications generated' }])).kind).toBe('ok');
    expect(setState({ metadata: { name: 's' }, spec: {} }).kind).toBe('pending');
  });
});

describe('ownerSet', () => {
  it('finds the ApplicationSet among owner references', () => {
    expect(ownerSet([{ kind: 'Deployment', name: 'x' }, { kind: 'ApplicationSet', name: 'demo' }])).toBe('demo');
    expect(ownerSet(undefined)).toBeUndefined();
  });
});
