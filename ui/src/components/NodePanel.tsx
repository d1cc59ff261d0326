import { useMemo, useState } from 'react';
import { api, errorMessage } from '../api';
import { keyOf } from '../tree';
import type { K8sEvent, ManagedResource, ResourceAction, TreeNode } from '../types';
import { toYaml } from '../yaml';
import { ago, ErrorBox, Loading, Status, useAsync } from './common';
import { TabList } from './TabList';

type Tab = 'summary' | 'live' | 'desired' | 'events' | 'actions';

/** One object: its summary, live and desired manifests (for objects the
 * app manages) and its Events. */
export function NodePanel({
  app,
  node,
  managed,
  onClose,
}: {
  app: string;
  node: TreeNode;
  managed: { data?: ManagedResource[]; error: unknown; loading: boolean; reload: () => void };
  onClose: () => void;
}) {
  const [tab, setTab] = useState<Tab>('summary');
  const resource = managed.data?.find((m) => keyOf(m) === keyOf(node));
  const events = useAsync(
    (signal) => (tab === 'events' ? api<K8sEvent[]>(`api/v1/applications/${encodeURIComponent(app)}/events`, { signal }) : Promise.resolve(undefined)),
    [app, tab],
  );
  const objectName = `${node.kind}/${node.namespace ? `${node.namespace}/` : ''}${node.name}`;
  const mine = useMemo(() => (events.data ?? []).filter((e) => e.object === objectName), [events.data, objectName]);
  const tabs: [Tab, string][] = [
    ['summary', 'Summary'],
    ['live', 'Live manifest'],
    ['desired', 'Desired manifest'],
    ['events', 'Events'],
  ];
  // Actions run on the objects the app manages (the API finds them there).
  if (node.tracked) tabs.push(['actions', 'Actions']);
  return (
    <aside className="node-panel" aria-labelledby="node-title">
      <header className="panel-header">
        <h2 id="node-title">
          <span className="kind">{node.kind}</span> {node.name}
        </h2>
        <button type="button" className="icon-button" aria-label="Close the object's details" onClick={onClose}>
          ✕
        </button>
      </header>
      <TabList label="Object details" tabs={tabs} current={tab} onSelect={setTab} idPrefix="node-tab-" panelId="node-tabpanel" />
      <div role="tabpanel" id="node-tabpanel" aria-labelledby={`node-tab-${tab}`} className="panel-body">
        {tab === 'summary' && (
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{node.group ? `${node.group}/${node.version} ${node.kind}` : `${node.version} ${node.kind}`}</dd>
            {node.namespace && (
              <>
                <dt>Namespace</dt>
                <dd>{node.namespace}</dd>
              </>
            )}
            <dt>Health</dt>
            <dd>
              <Status kind="health" value={node.health.status} /> {node.health.message}
            </dd>
            {node.syncStatus && (
              <>
                <dt>Sync</dt>
                <dd>
                  <Status kind="sync" value={node.syncStatus} />
                  {resource?.requiresPruning && ' (not in the source any more: a sync with prune deletes it)'}
                </dd>
              </>
            )}
            {node.hookPhase && (
              <>
                <dt>Hook</dt>
                <dd>{node.hookPhase}</dd>
              </>
            )}
            {node.info.map((i) => (
              <FactRow key={i.name + i.value} name={i.name} value={i.value} />
            ))}
            <dt>Created</dt>
            <dd>{ago(node.createdAt)}</dd>
            <dt>Managed by the app</dt>
            <dd>{node.tracked ? 'yes' : 'no (owned by another object)'}</dd>
          </dl>
        )}
        {(tab === 'live' || tab === 'desired') && (
          <Manifest node={node} resource={resource} which={tab} managed={managed} />
        )}
        {tab === 'actions' && <ActionsTab app={app} node={node} />}
        {tab === 'events' && (
          <>
            <ErrorBox error={events.error} onRetry={events.reload} />
            {events.loading ? (
              <Loading what="events" />
            ) : mine.length === 0 ? (
              <p className="empty">No Events for this object (Kubernetes keeps them for an hour).</p>
            ) : (
              <EventTable events={mine} showObject={false} />
            )}
          </>
        )}
      </div>
    </aside>
  );
}

/** The resource actions of one managed object: each a button, run after a
 * confirmation; the outcome (or the server's refusal) is announced. */
function ActionsTab({ app, node }: { app: string; node: TreeNode }) {
  const path = `api/v1/applications/${encodeURIComponent(app)}/resource/actions`;
  const query = {
    group: node.group,
    kind: node.kind,
    namespace: node.namespace,
    resourceName: node.name,
    version: node.version,
  };
  const list = useAsync((signal) => api<{ actions: ResourceAction[] }>(path, { signal, query }), [app, keyOf(node)]);
  const [asked, setAsked] = useState<ResourceAction | null>(null);
  const [running, setRunning] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (action: ResourceAction) => {
    setRunning(true);
    setOutcome(null);
    try {
      const done = await api<{ changes: string[] }>(path, { method: 'POST', query, body: action.name });
      const what = done.changes.length > 0 ? done.changes.join(', ') : 'nothing changed';
      setOutcome({ ok: true, text: `${action.displayName ?? action.name}: ${what}.` });
      list.reload();
    } catch (e) {
      setOutcome({ ok: false, text: errorMessage(e) });
    } finally {
      setRunning(false);
      setAsked(null);
    }
  };
  if (list.loading && !list.data) return <Loading what="actions" />;
  if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
  const actions = list.data?.actions ?? [];
  return (
    <div className="actions-tab">
      {actions.length === 0 ? (
        <p className="empty">
          {node.kind} has no resource actions. Custom ones come from the settings ConfigMap
          (resource.customizations.actions).
        </p>
      ) : (
        <ul className="action-list" aria-label="Resource actions">
          {actions.map((a) => (
            <li key={a.name}>
              <button type="button" disabled={a.disabled || running} onClick={() => setAsked(a)}>
                {a.displayName ?? a.name}
              </button>
              {a.disabled && <span className="muted"> (not now)</span>}
            </li>
          ))}
        </ul>
      )}
      {asked && (
        <div className="confirm" role="group" aria-label="Confirm the action">
          <p>
            Run <strong>{asked.displayName ?? asked.name}</strong> on {node.kind} {node.name}? It changes the live object now.
          </p>
          {/* The keyboard lands on the choice the question asks for. */}
          <button type="button" autoFocus disabled={running} onClick={() => void run(asked)}>
            Run {asked.displayName ?? asked.name}
          </button>{' '}
          <button type="button" disabled={running} onClick={() => setAsked(null)}>
            Cancel
          </button>
        </div>
      )}
      {outcome && (
        <p className={outcome.ok ? 'notice' : 'error-box'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.text}
        </p>
      )}
    </div>
  );
}

function FactRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}

function Manifest({
  node,
  resource,
  which,
  managed,
}: {
  node: TreeNode;
  resource?: ManagedResource;
  which: 'live' | 'desired';
  managed: { error: unknown; loading: boolean; reload: () => void };
}) {
  if (managed.loading) return <Loading what="manifests" />;
  if (managed.error) return <ErrorBox error={managed.error} onRetry={managed.reload} />;
  if (!resource) {
    return (
      <p className="empty">
        {node.kind} {node.name} is not managed by the app (it is owned by another object), so only its summary and Events are
        shown here.
      </p>
    );
  }
  const state = withoutManagedFields(which === 'live' ? resource.liveState : resource.targetState);
  if (!state) {
    return (
      <p className="empty">
        {which === 'live'
          ? 'The object does not exist in the cluster. Sync the app to create it.'
          : 'The source does not render this object (any more), or could not be rendered: see the app’s conditions.'}
      </p>
    );
  }
  return (
    <>
      <div className="toolbar">
        <button type="button" onClick={managed.reload}>
          Reload
        </button>
        <CopyButton text={toYaml(state)} />
      </div>
      <pre className="manifest" tabIndex={0} aria-label={`${which === 'live' ? 'Live' : 'Desired'} manifest (YAML)`}>
        {toYaml(state)}
      </pre>
    </>
  );
}

/** The object without `metadata.managedFields` (long, and rarely what a
 * person looks for). */
function withoutManagedFields(obj: unknown): unknown {
  if (!obj || typeof obj !== 'object') return obj;
  const o = obj as { metadata?: Record<string, unknown> };
  if (!o.metadata || !('managedFields' in o.metadata)) return obj;
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata };
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        });
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

export function EventTable({ events, showObject = true }: { events: readonly K8sEvent[]; showObject?: boolean }) {
  return (
    <table className="table events">
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Reason</th>
          {showObject && <th scope="col">Object</th>}
          <th scope="col">Message</th>
          <th scope="col">Count</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e, i) => (
          <tr key={i} className={e.type === 'Warning' ? 'warning' : undefined}>
            <td>{e.type === 'Warning' ? '⚠ Warning' : e.type}</td>
            <td>{e.reason}</td>
            {showObject && <td className="mono">{e.object}</td>}
            <td>{e.message}</td>
            <td>{e.count}</td>
            <td>{ago(e.lastSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
