import { useMemo, useState } from 'react';
import { classifyDiff, diffStat, sideBySide, type DiffLine } from '../diff';
import type { DiffResponse, ObjectDiffJson } from '../types';

function objectTitle(o: ObjectDiffJson): string {
  const kind = o.group ? `${o.group}/${o.kind}` : o.kind;
  const where = o.namespace ? `${o.namespace}/${o.name}` : o.name;
  return `${kind} ${where}`;
}

/** A whole app diff: summary, objects that differ (unified or side by
 * side), objects a prune would delete, objects that could not be compared. */
export function AppDiff({ diff }: { diff: DiffResponse }) {
  const [split, setSplit] = useState(false);
  const changed = (diff.objects ?? []).filter((o) => o.diff);
  return (
    <div className="app-diff">
      <div className="diff-toolbar">
        <p className="diff-summary">
          {diff.differs ? 'A sync would change the cluster.' : 'The cluster matches the source: a sync would change nothing.'}{' '}
          <span className="muted">
            Revision {diff.revision}
            {diff.commit ? ` (${diff.commit.slice(0, 7)})` : ''}; {changed.length} of {diff.objects?.length ?? 0} objects
            differ.
          </span>
        </p>
        <label className="check">
          <input type="checkbox" checked={split} onChange={(e) => setSplit(e.target.checked)} /> Side by side
        </label>
      </div>
      {diff.errors && diff.errors.length > 0 && (
        <div className="error-box" role="alert">
          <p>These objects could not be compared:</p>
          <ul>
            {diff.errors.map((e) => (
              <li key={`${e.kind}/${e.namespace}/${e.name}`}>
                {e.kind} {e.namespace ? `${e.namespace}/` : ''}
                {e.name}: {e.error}
              </li>
            ))}
          </ul>
        </div>
      )}
      {diff.wouldBePruned.length > 0 && (
        <div className="warn-box">
          <p>A sync with prune would delete:</p>
          <ul>
            {diff.wouldBePruned.map((k) => (
              <li key={`${k.group}/${k.kind}/${k.namespace}/${k.name}`}>
                {k.kind} {k.namespace ? `${k.namespace}/` : ''}
                {k.name}
              </li>
            ))}
          </ul>
        </div>
      )}
      {changed.map((o) => (
        <ObjectDiff key={objectTitle(o)} title={objectTitle(o)} outcome={o.outcome} text={o.diff} split={split} />
      ))}
    </div>
  );
}

export function ObjectDiff({
  title,
  outcome,
  text,
  split,
}: {
  title: string;
  outcome?: string;
  text: string;
  split: boolean;
}) {
  const lines = useMemo(() => classifyDiff(text), [text]);
  const stat = diffStat(lines);
  return (
    <details className="object-diff" open>
      <summary>
        <span className="mono">{title}</span> {outcome && <span className={`badge outcome-${outcome}`}>{outcome}</span>}{' '}
        <span className="diff-add-count">+{stat.added}</span> <span className="diff-del-count">−{stat.removed}</span>
      </summary>
      {split ? <SplitDiff lines={lines} /> : <UnifiedDiff lines={lines} />}
    </details>
  );
}

const LABEL: Partial<Record<DiffLine['kind'], string>> = { add: 'added', del: 'removed' };

export function UnifiedDiff({ lines }: { lines: readonly DiffLine[] }) {
  return (
    <pre className="diff" tabIndex={0} aria-label="Unified diff">
      {lines
        .filter((l) => l.kind !== 'title')
        .map((l, i) => (
          <span key={i} className={`dl dl-${l.kind}`}>
            <span className="ln" aria-hidden="true">
              {l.oldNo ?? ''}
            </span>
            <span className="ln" aria-hidden="true">
              {l.newNo ?? ''}
            </span>
            {LABEL[l.kind] && <span className="visually-hidden">{LABEL[l.kind]}: </span>}
            {l.text}
            {'\n'}
          </span>
        ))}
    </pre>
  );
}

function SplitDiff({ lines }: { lines: readonly DiffLine[] }) {
  const rows = useMemo(() => sideBySide(lines), [lines]);
  return (
    <div className="split-diff" tabIndex={0} role="table" aria-label="Side-by-side diff">
      <div role="row" className="split-row split-head">
        <span role="columnheader">Live</span>
        <span role="columnheader">Desired</span>
      </div>
      {rows.map((r, i) =>
        r.kind === 'pair' ? (
          <div role="row" key={i} className="split-row">
            <span role="cell" className={`dl dl-${r.left?.kind === 'context' ? 'context' : r.left ? 'del' : 'empty'}`}>
              <span className="ln">{r.left?.oldNo ?? ''}</span>
              {r.left ? r.left.text.slice(1) : ''}
            </span>
            <span role="cell" className={`dl dl-${r.right?.kind === 'context' ? 'context' : r.right ? 'add' : 'empty'}`}>
              <span className="ln">{r.right?.newNo ?? ''}</span>
              {r.right ? r.right.text.slice(1) : ''}
            </span>
          </div>
        ) : r.kind === 'title' ? null : (
          <div role="row" key={i} className={`split-row split-${r.kind}`}>
            <span role="cell" className="split-span">
              {r.text}
            </span>
          </div>
        ),
      )}
    </div>
  );
}
