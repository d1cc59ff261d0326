import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, apiUrl } from '../api';
import { Batcher, parseAppEvent } from '../appStream';
import { ownerSet } from '../appsets';
import { ago, destination, Dialog, ErrorBox, formatTime, Loading, shortRev, Status, useAsync } from '../components/common';
import { DeleteForm, RollbackForm, SyncForm } from '../components/Dialogs';
import { AppDiff } from '../components/DiffView';
import { EventTable, NodePanel } from '../components/NodePanel';
import { ResourceTree } from '../components/ResourceTree';
import { TabList } from '../components/TabList';
import { sourceLine, sourcesOf } from '../source';
import { useEventSource } from '../sse';
import { buildTimeline } from '../timeline';
import { keyOf } from '../tree';
import type {
  Application,
  DiffResponse,
  HistoryEntry,
  K8sEvent,
  ManagedResource,
  OperationResponse,
  ResourceTree as Tree,
} from '../types';

type Tab = 'resources' | 'diff' | 'history' | 'timeline' | 'events';
const TABS: [Tab, string][] = [
  ['resources', 'Resources'],
  ['diff', 'Diff'],
  ['history', 'History'],
  ['timeline', 'Timeline'],
  ['events', 'Events'],
];

export function AppDetail() {
  const { name = '' } = useParams();
  const path = `api/v1/applications/${encodeURIComponent(name)}`;
  const [params, setParams] = useSearchParams();
  const tab = (TABS.find(([t]) => t === params.get('tab'))?.[0] ?? 'resources') as Tab;
  const selected = params.get('node');
  const setParam = (k: string, v: string | null) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v);
    else p.delete(k);
    setParams(p, { replace: k === 'node' });
  };
  const navigate = useNavigate();

  const app = useAsync((signal) => api<Application>(path, { signal }), [path]);
  const [tree, setTree] = useState<Tree | null>(null);
  const [gone, setGone] = useState(false);
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<null | 'sync' | 'delete' | { rollback: HistoryEntry }>(null);

  // The app itself: changes arrive on the list stream (filtered to names
  // containing this one); each batch reads the app again.
  const reloadApp = app.reload;
  const batcher = useMemo(() => new Batcher<string>(() => reloadApp(), 250), [reloadApp]);
  useEffect(() => () => batcher.dispose(), [batcher]);
  const appStream = useEventSource(apiUrl('api/v1/stream/applications', { search: name }), {
    application: (data) => {
      const e = parseAppEvent(data);
      if (e?.application.name !== name) return;
      if (e.type === 'DELETED') setGone(true);
      else batcher.push(name);
    },
    reset: () => batcher.push(name),
  });
  // Read again once the stream is open: nothing between the first read
  // and the stream's start is missed.
  const wasOpen = useRef(false);
  useEffect(() => {
    if (appStream.state === 'open' && !wasOpen.current) batcher.push(name);
    wasOpen.current = appStream.state === 'open';
  }, [appStream.state, batcher, name]);

  const treeStream = useEventSource(apiUrl(`api/v1/stream/applications/${encodeURIComponent(name)}/resource-tree`), {
    tree: (data) => {
      try {
        setTree(JSON.parse(data) as Tree);
      } catch {
        // ignore a malformed event
      }
    },
    deleted: () => setGone(true),
  });

  const managed = useAsync(
    (signal) =>
      selected ? api<ManagedResource[]>(`${path}/managed-resources`, { signal }) : Promise.resolve(undefined),
    [path, selected ? 'on' : 'off'],
  );

  const act = async (what: string, fn: () => Promise<OperationResponse | unknown>) => {
    setActionError(null);
    setNotice('');
    try {
      const r = (await fn()) as Partial<OperationResponse> | undefined;
      setNotice(r?.message || what);
      app.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  if (gone) {
    return (
      <>
        <h1>{name}</h1>
        <p role="status">
          This application was deleted. <Link to="/applications">Back to the applications</Link>
        </p>
      </>
    );
  }
  if (!app.data) {
    return (
      <>
        <h1>{name}</h1>
        {app.error ? <ErrorBox error={app.error} onRetry={app.reload} /> : <Loading what="the application" />}
        <p>
          <Link to="/applications">Back to the applications</Link>
        </p>
      </>
    );
  }
  const a = app.data;
  const st = a.status ?? {};
  const op = st.operationState;
  const running = op?.phase === 'Running' || op?.phase === 'Terminating';
  const sources = sourcesOf(a.spec);
  const dest = a.spec.destination ?? {};
  const automated = !!a.spec.syncPolicy?.automated;
  const madeBy = ownerSet(a.metadata.ownerReferences);
  const nodes = tree?.nodes ?? [];
  const selectedNode = selected ? nodes.find((n) => keyOf(n) === selected) : undefined;

  return (
    <div className="app-detail">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/applications">Applications</Link> / <span aria-current="page">{name}</span>
      </nav>
      <div className="page-title">
        <h1>{name}</h1>
        <Status kind="sync" value={st.sync?.status} />
        <Status kind="health" value={st.health?.status} />
        {op?.phase && (
          <span className="badge">
            last operation: <Status kind="phase" value={op.phase} />
          </span>
        )}
        <span className={`live ${treeStream.state === 'open' ? 'live-on' : ''}`}>
          {treeStream.state === 'open' ? '● Live' : treeStream.state === 'closed' ? 'Live updates stopped' : 'Connecting…'}
        </span>
        {treeStream.state === 'closed' && (
          <button type="button" className="link-button" onClick={treeStream.reconnect}>
            Reconnect
          </button>
        )}
      </div>
      {st.conditions && st.conditions.length > 0 && (
        <div className="conditions" role="alert">
          <h2>Conditions</h2>
          <ul>
            {st.conditions.map((c, i) => (
              <li key={i}>
                <strong>{c.type}</strong>: {c.message}{' '}
                {c.lastTransitionTime && <span className="muted">({ago(c.lastTransitionTime)})</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions" role="toolbar" aria-label="Application actions">
        <button type="button" className="primary" onClick={() => setDialog('sync')}>
          Sync…
        </button>
        <button
          type="button"
          onClick={() => void act('Refresh requested.', () => api(`${path}/refresh`, { method: 'POST', query: { type: 'normal' } }))}
        >
          Refresh
        </button>
        <button
          type="button"
          onClick={() => void act('Hard refresh requested.', () => api(`${path}/refresh`, { method: 'POST', query: { type: 'hard' } }))}
          title="Render the source again without the cache"
        >
          Hard refresh
        </button>
        <button
          type="button"
          disabled={!running}
          title={running ? 'Stop the running sync' : 'No operation is running'}
          onClick={() => void act('Termination requested.', () => api(`${path}/operation`, { method: 'DELETE' }))}
        >
          Terminate
        </button>
        <button type="button" className="danger" onClick={() => setDialog('delete')}>
          Delete…
        </button>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorBox error={actionError} />
      <dl className="facts facts-grid">
        <dt>Project</dt>
        <dd>{a.spec.project || 'default'}</dd>
        <dt>{sources.length > 1 ? `Sources (${sources.length})` : 'Source'}</dt>
        <dd className="mono">
          {sources.length > 1 ? (
            <ol className="sources">
              {sources.map((s, i) => (
                <li key={i}>
                  {sourceLine(s)}
                  {st.sync?.revisions?.[i] && ` → ${shortRev(st.sync.revisions[i])}`}
                </li>
              ))}
            </ol>
          ) : (
            sources[0] && sourceLine(sources[0])
          )}
        </dd>
        <dt>Revision</dt>
        <dd className="mono">{shortRev(st.sync?.revision)}</dd>
        <dt>Destination</dt>
        <dd title={dest.server}>{destination(dest.server, dest.name, dest.namespace)}</dd>
        <dt>Sync policy</dt>
        <dd>{automated ? 'automated' : 'manual'}</dd>
        {madeBy && (
          <>
            <dt>Made by</dt>
            <dd title="The ApplicationSet puts back changes made to this Application by hand, except the fields it is told to ignore">
              ApplicationSet <Link to={`/applicationsets#${encodeURIComponent(madeBy)}`}>{madeBy}</Link>
            </dd>
          </>
        )}
        <dt>Last operation</dt>
        <dd>
          {op ? (
            <>
              {op.phase} {op.startedAt && `started ${ago(op.startedAt)}`}
              {op.operation?.initiatedBy?.username && ` by ${op.operation.initiatedBy.username}`}
              {op.operation?.initiatedBy?.automated && ' (automated)'}
              {op.message && <span className="op-message">: {op.message}</span>}
            </>
          ) : (
            'none yet'
          )}
        </dd>
      </dl>
      <TabList
        label="Application views"
        tabs={TABS}
        current={tab}
        onSelect={(t) => setParam('tab', t === 'resources' ? null : t)}
        idPrefix="tab-"
        panelId="app-tabpanel"
      />
      <div role="tabpanel" id="app-tabpanel" aria-labelledby={`tab-${tab}`} className="tab-body">
        {tab === 'resources' && (
          <div className={selectedNode ? 'split split-open' : 'split'}>
            {tree ? (
              <ResourceTree
                nodes={nodes}
                selected={selected}
                hasConditions={(st.conditions ?? []).length > 0}
                onSelect={(k) => setParam('node', k === selected ? null : k)}
              />
            ) : (
              <Loading what="the resource tree" />
            )}
            {selectedNode && (
              <NodePanel app={name} node={selectedNode} managed={managed} onClose={() => setParam('node', null)} />
            )}
          </div>
        )}
        {tab === 'diff' && <DiffTab path={path} version={`${st.sync?.status}/${st.sync?.revision}/${op?.finishedAt}`} />}
        {tab === 'history' && (
          <HistoryTab
            history={st.history ?? []}
            automated={automated}
            onRollback={(entry) => setDialog({ rollback: entry })}
          />
        )}
        {tab === 'timeline' && <TimelineTab path={path} app={name} history={st.history ?? []} />}
        {tab === 'events' && <EventsTab path={path} />}
      </div>

      <Dialog open={dialog === 'sync'} title={`Sync ${name}`} onClose={() => setDialog(null)} wide>
        {dialog === 'sync' && (
          <SyncForm
            app={a}
            onCancel={() => setDialog(null)}
            onDone={(m) => {
              setDialog(null);
              setNotice(m);
              app.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={dialog === 'delete'} title={`Delete ${name}`} onClose={() => setDialog(null)}>
        {dialog === 'delete' && (
          <DeleteForm name={name} onCancel={() => setDialog(null)} onDone={() => navigate('/applications')} />
        )}
      </Dialog>
      <Dialog
        open={typeof dialog === 'object' && dialog !== null}
        title={`Roll back ${name}`}
        onClose={() => setDialog(null)}
      >
        {typeof dialog === 'object' && dialog !== null && (
          <RollbackForm
            name={name}
            entry={dialog.rollback}
            onCancel={() => setDialog(null)}
            onDone={(m) => {
              setDialog(null);
              setNotice(m);
              app.reload();
            }}
          />
        )}
      </Dialog>
    </div>
  );
}

/** The diff; compared again when the app's sync status, revision or last
 * operation changes. */
function DiffTab({ path, version }: { path: string; version: string }) {
  const diff = useAsync((signal) => api<DiffResponse>(`${path}/diff`, { signal }), [path, version]);
  if (diff.loading && !diff.data) return <Loading what="the diff (the server renders the source and asks the cluster)" />;
  if (diff.error) return <ErrorBox error={diff.error} onRetry={diff.reload} />;
  if (!diff.data) return null;
  return (
    <>
      <button type="button" onClick={diff.reload}>
        Compare again
      </button>
      <AppDiff diff={diff.data} />
    </>
  );
}

function HistoryTab({
  history,
  automated,
  onRollback,
}: {
  history: HistoryEntry[];
  automated: boolean;
  onRollback: (e: HistoryEntry) => void;
}) {
  if (history.length === 0) return <p className="empty">No syncs yet.</p>;
  const entries = [...history].sort((x, y) => y.id - x.id);
  return (
    <>
      {automated && (
        <p className="field-help">
          This app syncs automatically, so the server refuses a rollback: turn off automated sync first.
        </p>
      )}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Revision</th>
            <th scope="col">Deployed</th>
            <th scope="col">By</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((h, i) => (
            <tr key={h.id}>
              <td>{h.id}</td>
              <td className="mono" title={h.revision ?? h.revisions?.join(', ')}>
                {shortRev(h.revision ?? h.revisions?.[0])}
              </td>
              <td title={formatTime(h.deployedAt)}>{ago(h.deployedAt)}</td>
              <td>{h.initiatedBy?.automated ? 'automated' : h.initiatedBy?.username || '—'}</td>
              <td>
                {i === 0 ? (
                  <span className="muted">current</span>
                ) : (
                  <button type="button" disabled={automated} onClick={() => onRollback(h)}>
                    Roll back to {h.id}…
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Syncs, drift, self-heals, failures, rollbacks and actions in one list,
 * newest first (from the history and the Events; Kubernetes keeps Events for
 * an hour, the history for the app's revisionHistoryLimit). */
function TimelineTab({ path, app, history }: { path: string; app: string; history: HistoryEntry[] }) {
  const events = useAsync((signal) => api<K8sEvent[]>(`${path}/events`, { signal }), [path, history.length]);
  if (events.loading && !events.data) return <Loading what="the timeline" />;
  const items = buildTimeline(history, events.data ?? [], app);
  return (
    <>
      <ErrorBox error={events.error} onRetry={events.reload} />
      {items.length === 0 ? (
        <p className="empty">Nothing has happened to this app yet.</p>
      ) : (
        <ol className="timeline" aria-label="Timeline">
          {items.map((item, i) => (
            <li key={i} className={`timeline-item timeline-${item.kind}`}>
              <span className="badge">{item.kind}</span> <strong>{item.title}</strong>{' '}
              <time className="muted" dateTime={item.at} title={formatTime(item.at)}>
                {ago(item.at)}
              </time>
              {item.detail && <div className="timeline-detail">{item.detail}</div>}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

function EventsTab({ path }: { path: string }) {
  const events = useAsync((signal) => api<K8sEvent[]>(`${path}/events`, { signal }), [path]);
  if (events.loading) return <Loading what="events" />;
  if (events.error) return <ErrorBox error={events.error} onRetry={events.reload} />;
  const list = events.data ?? [];
  return (
    <>
      <button type="button" onClick={events.reload}>
        Reload
      </button>
      {list.length === 0 ? (
        <p className="empty">No Events (Kubernetes keeps them for an hour).</p>
      ) : (
        <EventTable events={list} />
      )}
    </>
  );
}

