import { describe, expect, it } from 'vitest';
import { buildTree, flattenTree, healthCounts, keyOf } from './tree';
import type { NodeKey, TreeNode } from './types';

function node(kind: string, name: string, parents: NodeKey[] = [], over: Partial<TreeNode> = {}): TreeNode {
  return {
    group: kind === 'Deployment' || kind === 'ReplicaSet' ? 'apps' : '',
    kind,
    namespace: 'web',
    name,
    version: 'v1',
    uid: `${kind}-${name}`,
    parentRefs: parents,
    health: { status: 'Healthy' },
    info: [],
    resourceVersion: '1',
    tracked: parents.length === 0,
    ...over,
  };
}
const ref = (n: TreeNode): NodeKey => ({ group: n.group, kind: n.kind, namespace: n.namespace, name: n.name });

describe('buildTree', () => {
  const deploy = node('Deployment', 'web', [], { syncStatus: 'Synced' });
  const rs = node('ReplicaSet', 'web-1', [ref(deploy)]);
  const oldRs = node('ReplicaSet', 'web-0', [ref(deploy)]);
  const podB = node('Pod', 'web-1-b', [ref(rs)]);
  const podA = node('Pod', 'web-1-a', [ref(rs)]);
  const svc = node('Service', 'web', [], { syncStatus: 'OutOfSync' });
  const slice = node('EndpointSlice', 'web-x', [ref(svc)], { group: 'discovery.k8s.io' });

  it('nests Deployment → ReplicaSet → Pod and orders kinds and names', () => {
    const forest = buildTree([podB, slice, rs, podA, deploy, oldRs, svc]);
    expect(forest.map((t) => t.node.kind)).toEqual(['Service', 'Deployment']);
    const d = forest[1];
    expect(d.children.map((c) => c.node.name)).toEqual(['web-0', 'web-1']);
    expect(d.children[1].children.map((c) => c.node.name)).toEqual(['web-1-a', 'web-1-b']);
    expect(forest[0].children.map((c) => c.node.kind)).toEqual(['EndpointSlice']);
  });

  it('makes nodes whose owner is absent roots', () => {
    const orphan = node('Pod', 'lost', [{ group: 'apps', kind: 'ReplicaSet', namespace: 'web', name: 'gone' }]);
    const forest = buildTree([orphan, deploy]);
    expect(forest.map((t) => t.node.name).sort()).toEqual(['lost', 'web']);
  });

  it('puts a node with two owners under both and survives cycles', () => {
    const a = node('ConfigMap', 'a');
    const b = node('ConfigMap', 'b');
    const shared = node('Pod', 'shared', [ref(a), ref(b)]);
    const forest = buildTree([a, b, shared]);
    expect(forest.map((t) => t.children.map((c) => c.node.name))).toEqual([['shared'], ['shared']]);

    const x = node('Pod', 'x', [{ group: '', kind: 'Pod', namespace: 'web', name: 'y' }]);
    const y = node('Pod', 'y', [ref(x)]);
    const cyc = buildTree([x, y]);
    const rows = flattenTree(cyc);
    expect(rows.map((r) => r.node.name).sort()).toEqual(['x', 'y']);
  });

  it('flattens depth-first and honours collapsed rows', () => {
    const forest = buildTree([deploy, rs, podA]);
    const rows = flattenTree(forest);
    expect(rows.map((r) => [r.node.name, r.depth, r.hasChildren])).toEqual([
      ['web', 0, true],
      ['web-1', 1, true],
      ['web-1-a', 2, false],
    ]);
    const collapsed = flattenTree(forest, new Set([rows[1].id]));
    expect(collapsed.map((r) => r.node.name)).toEqual(['web', 'web-1']);
    expect(collapsed[1].expanded).toBe(false);
    expect(rows[1].id).toBe(`${keyOf(deploy)}>${keyOf(rs)}`);
  });

  it('counts health', () => {
    expect(healthCounts([deploy, node('Pod', 'p', [], { health: { status: 'Degraded' } })])).toEqual({
      Healthy: 1,
      Degraded: 1,
    });
  });
});
