import { useMemo, useState } from 'react';
import { buildTree, flattenTree, healthCounts, keyOf } from '../tree';
import type { TreeNode } from '../types';
import { Status } from './common';

/** The app's objects, indented by ownership, with health and sync on
 * every node. Rows are buttons: Enter or a click opens the node. */
export function ResourceTree({
  nodes,
  selected,
  onSelect,
  hasConditions = false,
}: {
  nodes: readonly TreeNode[];
  selected: string | null;
  onSelect: (key: string) => void;
  hasConditions?: boolean;
}) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const forest = useMemo(() => buildTree(nodes), [nodes]);
  const rows = useMemo(() => flattenTree(forest, collapsed), [forest, collapsed]);
  const health = useMemo(() => healthCounts(nodes), [nodes]);
  const toggle = (id: string) =>
    setCollapsed((c) => {
      const n = new Set(c);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  if (nodes.length === 0) {
    return (
      <p className="empty">
        The app has no objects in the cluster yet.{' '}
        {hasConditions ? 'Fix what the conditions above say, then sync it.' : 'Sync it to create them.'}
      </p>
    );
  }
  return (
    <div className="tree">
      <p className="muted tree-summary">
        {nodes.length} objects:{' '}
        {Object.entries(health)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ')}
      </p>
      <ul className="tree-rows" aria-label="Resources">
        {rows.map((r) => {
          const n = r.node;
          const key = keyOf(n);
          const pod = n.info.find((i) => i.name === 'Status' || i.name === 'status')?.value;
          return (
            <li key={r.id} className={`tree-row depth-${Math.min(r.depth, 8)}${selected === key ? ' selected' : ''}`}>
              {r.hasChildren ? (
                <button
                  type="button"
                  className="icon-button tree-toggle"
                  aria-expanded={r.expanded}
                  aria-label={`${r.expanded ? 'Collapse' : 'Expand'} ${n.kind} ${n.name}`}
                  onClick={() => toggle(r.id)}
                >
                  {r.expanded ? '▾' : '▸'}
                </button>
              ) : (
                <span className="tree-toggle" aria-hidden="true" />
              )}
              <button
                type="button"
                className="tree-node"
                aria-current={selected === key ? 'true' : undefined}
                onClick={() => onSelect(key)}
                title={n.health.message || undefined}
              >
                <span className="kind">{n.kind}</span>
                <span className="node-name">{n.name}</span>
                <Status kind="health" value={n.health.status} />
                {n.syncStatus && <Status kind="sync" value={n.syncStatus} />}
                {n.hookPhase && (
                  <span className="badge">
                    hook: <Status kind="phase" value={n.hookPhase} />
                  </span>
                )}
                {pod && <span className="muted">{pod}</span>}
                {!n.tracked && r.depth === 0 && <span className="badge">not managed</span>}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
