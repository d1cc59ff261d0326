// The resource tree: the server sends a flat list of nodes whose
// `parentRefs` name their owners; the page shows it indented
// (Deployment → ReplicaSet → Pod).

import type { NodeKey, TreeNode } from './types';

export const keyOf = (n: NodeKey): string =>
  `${n.group}/${n.kind}/${n.namespace}/${n.name}`;

export interface TreeItem {
  node: TreeNode;
  children: TreeItem[];
}

export interface TreeRow {
  /** Unique per row (a node with two owners appears under both). */
  id: string;
  node: TreeNode;
  depth: number;
  hasChildren: boolean;
  expanded: boolean;
}

// Kinds in the order a person reads an app: what runs, then what it makes.
const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'CronJob',
  'Job',
  'Pod',
  'Ingress',
  'EndpointSlice',
  'Endpoints',
];

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

export function compareNodes(a: NodeKey, b: NodeKey): number {
  return (
    rank(a.kind) - rank(b.kind) ||
    a.kind.localeCompare(b.kind) ||
    a.namespace.localeCompare(b.namespace) ||
    a.name.localeCompare(b.name)
  );
}

/**
 * The forest of `nodes`: roots are the nodes the app tracks and any node
 * whose owners are not in the tree; a node with several owners in the
 * tree is a child of each; ownership cycles are cut.
 */
export function buildTree(nodes: readonly TreeNode[]): TreeItem[] {
  const byKey = new Map<string, TreeNode>();
  for (const n of nodes) byKey.set(keyOf(n), n);
  const children = new Map<string, TreeNode[]>();
  const roots: TreeNode[] = [];
  for (const n of byKey.values()) {
    const parents = (n.parentRefs ?? []).map(keyOf).filter((k) => byKey.has(k) && k !== keyOf(n));
    if (parents.length === 0) {
      roots.push(n);
      continue;
    }
    for (const p of new Set(parents)) {
      const list = children.get(p) ?? [];
      list.push(n);
      children.set(p, list);
    }
  }
  const build = (n: TreeNode, path: Set<string>): TreeItem => {
    const k = keyOf(n);
    const next = new Set(path).add(k);
    const kids = (children.get(k) ?? [])
      .filter((c) => !next.has(keyOf(c)))
      .sort(compareNodes)
      .map((c) => build(c, next));
    return { node: n, children: kids };
  };
  const forest = roots.sort(compareNodes).map((r) => build(r, new Set()));
  // Nodes only reachable through a cycle get no root: show them at the top.
  const seen = new Set<string>();
  const walk = (t: TreeItem) => {
    seen.add(keyOf(t.node));
    t.children.forEach(walk);
  };
  forest.forEach(walk);
  const orphans = [...byKey.values()].filter((n) => !seen.has(keyOf(n))).sort(compareNodes);
  for (const o of orphans) {
    if (seen.has(keyOf(o))) continue;
    const item = build(o, new Set());
    walk(item);
    forest.push(item);
  }
  return forest;
}

/** The rows to show: the forest depth-first, skipping collapsed nodes'
 * children (`collapsed` holds row ids). */
export function flattenTree(forest: readonly TreeItem[], collapsed: ReadonlySet<string> = new Set()): TreeRow[] {
  const rows: TreeRow[] = [];
  const visit = (t: TreeItem, depth: number, prefix: string) => {
    const id = prefix ? `${prefix}>${keyOf(t.node)}` : keyOf(t.node);
    const expanded = !collapsed.has(id);
    rows.push({ id, node: t.node, depth, hasChildren: t.children.length > 0, expanded });
    if (expanded) for (const c of t.children) visit(c, depth + 1, id);
  };
  for (const t of forest) visit(t, 0, '');
  return rows;
}

/** Counts of node health statuses (for the summary line). */
export function healthCounts(nodes: readonly TreeNode[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of nodes) {
    const s = n.health?.status || 'Unknown';
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}
