import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { buildTree, flattenTree, healthCounts, keyOf, type TreeRow } from '../tree';
import type { TreeNode } from '../types';
import { Status, useHeight } from './common';

/** Trees with more rows than this are virtualized: only the rows in
 * sight (and a few around them) are in the page. */
const VIRTUAL_FROM = 200;
/** A row's height when virtualized (its CSS gives it exactly this). */
const TREE_ROW_HEIGHT = 37;

/** Places a row of a virtualized list (through CSSOM: the page's
 * Content-Security-Policy has no inline styles). */
type Place = (el: HTMLLIElement | null) => void;

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
  const renderRow = (r: TreeRow, place?: Place) => {
    const n = r.node;
    const key = keyOf(n);
    const pod = n.info.find((i) => i.name === 'Status' || i.name === 'status')?.value;
    return (
      <li key={r.id} ref={place} className={`tree-row depth-${Math.min(r.depth, 8)}${selected === key ? ' selected' : ''}`}>
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
  };
  return (
    <div className="tree">
      <p className="muted tree-summary">
        {nodes.length} objects:{' '}
        {Object.entries(health)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ')}
      </p>
      {rows.length > VIRTUAL_FROM ? (
        <VirtualRows rows={rows} renderRow={renderRow} />
      ) : (
        <ul className="tree-rows" aria-label="Resources">
          {rows.map((r) => renderRow(r))}
        </ul>
      )}
    </div>
  );
}

/** The rows of a large tree in a scrolling box, only those in sight in
 * the page. */
function VirtualRows({ rows, renderRow }: { rows: readonly TreeRow[]; renderRow: (r: TreeRow, place: Place) => ReactNode }) {
  const scroller = useRef<HTMLDivElement>(null);
  const inner = useRef<HTMLUListElement>(null);
  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => TREE_ROW_HEIGHT,
    overscan: 15,
  });
  useHeight(inner, v.getTotalSize());
  return (
    <div className="tree-scroller" ref={scroller}>
      <ul ref={inner} className="tree-rows virtual-inner" aria-label="Resources">
        {v.getVirtualItems().map((item) =>
          renderRow(rows[item.index], (el) => {
            if (el) el.style.transform = `translateY(${item.start}px)`;
          }),
        )}
      </ul>
    </div>
  );
}
