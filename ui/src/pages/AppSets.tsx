import { useEffect } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { describeGenerators, setState } from '../appsets';
import { ErrorBox, Loading, Status, ago, useAsync } from '../components/common';
import type { ApplicationSet } from '../types';

/** How often the page reads the sets again (they have no live stream). */
const REFRESH_MS = 5000;

/** The ApplicationSets: what generates each, whether its last pass went
 * well (and why not), and the Applications it made with their state. */
export function AppSets() {
  const sets = useAsync((signal) => api<ApplicationSet[]>('api/v1/applicationsets', { signal }), []);
  const { reload } = sets;
  useEffect(() => {
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);
  const items = [...(sets.data ?? [])].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return (
    <div className="appsets-page">
      <div className="page-title">
        <h1>ApplicationSets</h1>
        <span className="count" aria-live="polite">
          {sets.data ? `${items.length} ${items.length === 1 ? 'set' : 'sets'}` : ''}
        </span>
      </div>
      <ErrorBox error={sets.error} onRetry={reload} />
      {sets.loading && !sets.data && <Loading what="ApplicationSets" />}
      {sets.data && items.length === 0 && (
        <p className="empty">
          No ApplicationSets, or none you may see. Apply one with <code>kubectl apply -f</code>; preview what it makes
          with <code>sextant appset generate</code>.
        </p>
      )}
      {items.map((set) => (
        <AppSetCard key={set.metadata.name} set={set} />
      ))}
    </div>
  );
}

function AppSetCard({ set }: { set: ApplicationSet }) {
  const state = setState(set);
  const apps = set.status?.resources ?? [];
  const id = `appset-${set.metadata.name}`;
  return (
    <section className="appset card" aria-labelledby={id} id={set.metadata.name}>
      <h2 id={id}>{set.metadata.name}</h2>
      <dl className="facts facts-grid">
        <dt>Generators</dt>
        <dd>{describeGenerators(set.spec.generators)}</dd>
        <dt>Template</dt>
        <dd className="mono">
          {set.spec.template?.metadata?.name ?? '—'}
          {set.spec.goTemplate ? ' (Go template)' : ''}
        </dd>
        <dt>Policy</dt>
        <dd>
          {set.spec.syncPolicy?.applicationsSync ?? 'sync'}
          {set.spec.syncPolicy?.preserveResourcesOnDeletion ? ', keeps resources on deletion' : ''}
        </dd>
        <dt>State</dt>
        <dd className={`appset-state st-${state.kind}`} role={state.kind === 'error' ? 'alert' : undefined}>
          {state.kind === 'error' ? 'Error: ' : ''}
          {state.message}
        </dd>
        {set.metadata.creationTimestamp && (
          <>
            <dt>Created</dt>
            <dd>{ago(set.metadata.creationTimestamp)}</dd>
          </>
        )}
      </dl>
      {apps.length > 0 ? (
        <table className="table">
          <caption className="visually-hidden">Applications of {set.metadata.name}</caption>
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Sync</th>
              <th scope="col">Health</th>
            </tr>
          </thead>
          <tbody>
            {apps.map((a) => (
              <tr key={a.name} className="appset-app">
                <td>
                  <Link to={`/applications/${encodeURIComponent(a.name)}`}>{a.name}</Link>
                </td>
                <td>
                  <Status kind="sync" value={a.status} />
                </td>
                <td>
                  <Status kind="health" value={a.health?.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="empty">It has made no Applications.</p>
      )}
    </section>
  );
}
