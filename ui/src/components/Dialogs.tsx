import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { defaultRevision } from '../source';
import type { Application, DiffResponse, HistoryEntry, OperationResponse } from '../types';
import { ErrorBox, Loading, shortRev, useAsync } from './common';
import { AppDiff } from './DiffView';

const appPath = (name: string, rest = '') => `api/v1/applications/${encodeURIComponent(name)}${rest}`;

interface SyncProps {
  app: Application;
  onDone: (message: string) => void;
  onCancel: () => void;
}

/** The Sync dialog: the diff preview first, then options and which
 * objects to sync. */
export function SyncForm({ app, onDone, onCancel }: SyncProps) {
  const name = app.metadata.name;
  const target = defaultRevision(app.spec);
  const [revision, setRevision] = useState(target);
  const [previewed, setPreviewed] = useState(target);
  const [prune, setPrune] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [outOfSyncOnly, setOutOfSyncOnly] = useState(false);
  const [serverSideApply, setServerSideApply] = useState(false);
  const resources = (app.status?.resources ?? []).filter((r) => !r.hook);
  const keyOf = (r: (typeof resources)[number]) => `${r.group ?? ''}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
  const [picked, setPicked] = useState<ReadonlySet<string>>(() => new Set(resources.map(keyOf)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const diff = useAsync(
    (signal) => api<DiffResponse>(appPath(name, '/diff'), { query: { revision: previewed }, signal }),
    [name, previewed],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const all = picked.size === resources.length;
    const syncOptions = [
      ...(outOfSyncOnly ? ['ApplyOutOfSyncOnly=true'] : []),
      ...(serverSideApply ? ['ServerSideApply=true'] : []),
    ];
    try {
      const r = await api<OperationResponse>(appPath(name, '/sync'), {
        method: 'POST',
        body: {
          revision: revision.trim() || undefined,
          prune,
          dryRun,
          resources: all
            ? []
            : resources
                .filter((r) => picked.has(keyOf(r)))
                .map((r) => ({ group: r.group ?? '', kind: r.kind, namespace: r.namespace || undefined, name: r.name })),
          syncOptions,
        },
      });
      onDone(r.message || `Sync of ${name} requested.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="sync-form">
      <section aria-labelledby="sync-preview">
        <h3 id="sync-preview">What a sync would change</h3>
        <div className="field-row">
          <div className="field">
            <label htmlFor="sync-revision">Revision</label>
            <input
              id="sync-revision"
              value={revision}
              onChange={(e) => setRevision(e.target.value)}
              aria-describedby="sync-revision-help"
            />
          </div>
          <button type="button" onClick={() => setPreviewed(revision.trim() || target)} disabled={revision === previewed}>
            Preview this revision
          </button>
        </div>
        <p id="sync-revision-help" className="field-help">
          A branch, tag or commit; the app follows {target}.
        </p>
        {diff.loading ? (
          <Loading what={`the diff at ${previewed}`} />
        ) : diff.error ? (
          <ErrorBox error={diff.error} onRetry={diff.reload} />
        ) : diff.data ? (
          <div className="diff-preview">
            <AppDiff diff={diff.data} />
          </div>
        ) : null}
      </section>
      <fieldset>
        <legend>Options</legend>
        <label className="check">
          <input type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} /> Prune: delete objects
          no longer in the source
        </label>
        <label className="check">
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run: check
          without changing anything
        </label>
        <label className="check">
          <input type="checkbox" checked={outOfSyncOnly} onChange={(e) => setOutOfSyncOnly(e.target.checked)} /> Apply
          out-of-sync objects only
        </label>
        <label className="check">
          <input type="checkbox" checked={serverSideApply} onChange={(e) => setServerSideApply(e.target.checked)} />{' '}
          Server-side apply
        </label>
      </fieldset>
      {resources.length > 0 && (
        <fieldset className="resource-pick">
          <legend>
            Objects to sync ({picked.size} of {resources.length})
          </legend>
          <div className="toolbar">
            <button type="button" onClick={() => setPicked(new Set(resources.map(keyOf)))}>
              All
            </button>
            <button type="button" onClick={() => setPicked(new Set())}>
              None
            </button>
            <button
              type="button"
              onClick={() => setPicked(new Set(resources.filter((r) => r.status === 'OutOfSync').map(keyOf)))}
            >
              Out of sync
            </button>
          </div>
          <ul className="pick-list">
            {resources.map((r) => {
              const k = keyOf(r);
              return (
                <li key={k}>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={picked.has(k)}
                      onChange={() =>
                        setPicked((p) => {
                          const n = new Set(p);
                          if (n.has(k)) n.delete(k);
                          else n.add(k);
                          return n;
                        })
                      }
                    />
                    <span className="kind">{r.kind}</span> {r.namespace ? `${r.namespace}/` : ''}
                    {r.name} <span className="muted">{r.status}</span>
                  </label>
                </li>
              );
            })}
          </ul>
        </fieldset>
      )}
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || (resources.length > 0 && picked.size === 0)}>
          {busy ? 'Requesting…' : dryRun ? 'Dry-run sync' : 'Sync'}
        </button>
      </div>
    </form>
  );
}

/** Delete an app: type its name to confirm; cascade by default. */
export function DeleteForm({ name, onDone, onCancel }: { name: string; onDone: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState('');
  const [cascade, setCascade] = useState(true);
  const [background, setBackground] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(appPath(name), {
        method: 'DELETE',
        query: {
          cascade: cascade ? undefined : 'false',
          propagationPolicy: cascade && background ? 'background' : undefined,
        },
      });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)}>
      <p>
        This deletes the application <strong>{name}</strong>
        {cascade ? ' and every object it manages in the cluster.' : '. Its objects stay in the cluster, unmanaged.'}
      </p>
      <label className="check">
        <input type="checkbox" checked={cascade} onChange={(e) => setCascade(e.target.checked)} /> Delete its objects
        too (cascade)
      </label>
      {cascade && (
        <label className="check">
          <input type="checkbox" checked={background} onChange={(e) => setBackground(e.target.checked)} /> Do not wait
          for the objects to go (background propagation)
        </label>
      )}
      <div className="field">
        <label htmlFor="delete-confirm">Type the application’s name to confirm</label>
        <input id="delete-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </div>
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="danger" disabled={busy || typed !== name}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      </div>
    </form>
  );
}

/** Roll back to a history entry. */
export function RollbackForm({
  name,
  entry,
  onDone,
  onCancel,
}: {
  name: string;
  entry: HistoryEntry;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const [prune, setPrune] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<OperationResponse>(appPath(name, '/rollback'), {
        method: 'POST',
        body: { id: entry.id, prune, dryRun },
      });
      onDone(r.message || `Rollback of ${name} to ${entry.id} requested.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)}>
      <p>
        Deploy history entry {entry.id} (revision <span className="mono">{shortRev(entry.revision ?? entry.revisions?.[0])}</span>)
        again.
      </p>
      <label className="check">
        <input type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} /> Prune objects that
        revision does not have
      </label>
      <label className="check">
        <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run
      </label>
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Requesting…' : 'Roll back'}
        </button>
      </div>
    </form>
  );
}

