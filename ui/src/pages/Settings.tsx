import { useState, type FormEvent } from 'react';
import { NavLink, Navigate, Route, Routes } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth';
import { Dialog, ErrorBox, formatTime, Loading, useAsync } from '../components/common';
import { CopyButton } from '../components/NodePanel';
import type { Account, Cluster, Project, Repository, TokenRecord, TokenResponse } from '../types';

export function Settings() {
  return (
    <div className="settings">
      <h1>Settings</h1>
      <nav aria-label="Settings" className="subnav">
        <NavLink to="/settings/repositories">Repositories</NavLink>
        <NavLink to="/settings/projects">Projects</NavLink>
        <NavLink to="/settings/clusters">Clusters</NavLink>
        <NavLink to="/settings/accounts">Accounts</NavLink>
      </nav>
      <Routes>
        <Route index element={<Navigate to="/settings/repositories" replace />} />
        <Route path="repositories" element={<Repositories />} />
        <Route path="projects" element={<Projects />} />
        <Route path="clusters" element={<Clusters />} />
        <Route path="accounts" element={<Accounts />} />
      </Routes>
    </div>
  );
}

function Repositories() {
  const repos = useAsync((signal) => api<Repository[]>('api/v1/repositories', { signal }), []);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Repository | null>(null);
  const [error, setError] = useState<unknown>(null);
  const remove = async (r: Repository) => {
    setError(null);
    try {
      await api(`api/v1/repositories/${encodeURIComponent(r.name)}`, { method: 'DELETE' });
      setRemoving(null);
      repos.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="repos-title">
      <div className="section-title">
        <h2 id="repos-title">Repositories</h2>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add repository…
        </button>
      </div>
      <p className="field-help">Credentials for Git and Helm repositories. Passwords are never shown again.</p>
      <ErrorBox error={repos.error} onRetry={repos.reload} />
      {repos.loading && !repos.data && <Loading what="repositories" />}
      {repos.data && repos.data.length === 0 && <p className="empty">No repository credentials yet.</p>}
      {repos.data && repos.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Type</th>
              <th scope="col">Scope</th>
              <th scope="col">Username</th>
              <th scope="col">Password</th>
              <th scope="col">Secret</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {repos.data.map((r) => (
              <tr key={r.name}>
                <td className="mono">{r.url}</td>
                <td>{r.type}</td>
                <td>{r.scope}</td>
                <td>{r.username ?? '—'}</td>
                <td>{r.hasPassword ? 'set' : '—'}</td>
                <td className="mono">{r.name}</td>
                <td>
                  <button type="button" className="danger" onClick={() => setRemoving(r)}>
                    Remove…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Dialog open={adding} title="Add repository" onClose={() => setAdding(false)}>
        {adding && (
          <AddRepository
            onCancel={() => setAdding(false)}
            onDone={() => {
              setAdding(false);
              repos.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={!!removing} title="Remove repository" onClose={() => setRemoving(null)}>
        {removing && (
          <>
            <p>
              Remove the credentials for <span className="mono">{removing.url}</span> (Secret {removing.name})? Apps
              using a private repository can no longer fetch it.
            </p>
            <ErrorBox error={error} />
            <div className="dialog-actions">
              <button type="button" onClick={() => setRemoving(null)}>
                Cancel
              </button>
              <button type="button" className="danger" onClick={() => void remove(removing)}>
                Remove
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}

function AddRepository({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [type, setType] = useState('git');
  const [prefix, setPrefix] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('api/v1/repositories', {
        method: 'POST',
        body: { url: url.trim(), username: username.trim() || undefined, password, prefix, type },
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
      <div className="field">
        <label htmlFor="repo-url">URL</label>
        <input id="repo-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://git.example.com/team/repo.git" />
      </div>
      <div className="field">
        <label htmlFor="repo-type">Type</label>
        <select id="repo-type" value={type} onChange={(e) => setType(e.target.value)}>
          <option value="git">Git</option>
          <option value="helm">Helm</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="repo-user">Username</label>
        <input id="repo-user" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="repo-password">Password or access token</label>
        <input
          id="repo-password"
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <label className="check">
        <input type="checkbox" checked={prefix} onChange={(e) => setPrefix(e.target.checked)} /> Use for every repository
        whose URL starts with this one (credential template)
      </label>
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add'}
        </button>
      </div>
    </form>
  );
}

function Projects() {
  const projects = useAsync((signal) => api<Project[]>('api/v1/projects', { signal }), []);
  if (projects.error) return <ErrorBox error={projects.error} onRetry={projects.reload} />;
  if (!projects.data) return <Loading what="projects" />;
  return (
    <section aria-labelledby="projects-title">
      <h2 id="projects-title">Projects</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Sources</th>
            <th scope="col">Destinations</th>
          </tr>
        </thead>
        <tbody>
          {projects.data.map((p) => (
            <tr key={p.metadata.name}>
              <td>{p.metadata.name}</td>
              <td>{p.spec?.description ?? '—'}</td>
              <td className="mono">{(p.spec?.sourceRepos ?? []).join(', ') || '—'}</td>
              <td className="mono">
                {(p.spec?.destinations ?? []).map((d) => `${d.name || d.server}/${d.namespace}`).join(', ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Clusters() {
  const clusters = useAsync((signal) => api<Cluster[]>('api/v1/clusters', { signal }), []);
  if (clusters.error) return <ErrorBox error={clusters.error} onRetry={clusters.reload} />;
  if (!clusters.data) return <Loading what="clusters" />;
  return (
    <section aria-labelledby="clusters-title">
      <h2 id="clusters-title">Clusters</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Server</th>
            <th scope="col">Applications</th>
          </tr>
        </thead>
        <tbody>
          {clusters.data.map((c) => (
            <tr key={c.server + c.name}>
              <td>{c.name}</td>
              <td className="mono">{c.server}</td>
              <td>{c.applications}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const tokenTime = (t: TokenRecord, which: 'issued' | 'expires'): string => {
  const iso = which === 'issued' ? t.issuedAt : t.expiresAt;
  const secs = which === 'issued' ? t.iat : t.exp;
  if (iso) return formatTime(iso);
  if (typeof secs === 'number' && secs > 0) return formatTime(new Date(secs * 1000).toISOString());
  return which === 'expires' ? 'never' : '—';
};

function Accounts() {
  const { user } = useAuth();
  const accounts = useAsync((signal) => api<Account[]>('api/v1/account', { signal }), []);
  const [generating, setGenerating] = useState(false);
  const [revoking, setRevoking] = useState<{ account: string; id: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const revoke = async () => {
    if (!revoking) return;
    setError(null);
    try {
      await api(`api/v1/account/${encodeURIComponent(revoking.account)}/token/${encodeURIComponent(revoking.id)}`, {
        method: 'DELETE',
      });
      setRevoking(null);
      accounts.reload();
    } catch (e) {
      setError(e);
    }
  };
  const me = accounts.data?.find((a) => a.name === user?.username);
  return (
    <section aria-labelledby="accounts-title">
      <div className="section-title">
        <h2 id="accounts-title">Accounts</h2>
        <button
          type="button"
          className="primary"
          onClick={() => setGenerating(true)}
          disabled={!!me && !me.capabilities.includes('apiKey')}
          title={me && !me.capabilities.includes('apiKey') ? 'Your account lacks the apiKey capability' : undefined}
        >
          Generate a token for {user?.username}…
        </button>
      </div>
      {me && !me.capabilities.includes('apiKey') && (
        <p className="field-help">
          Your account cannot have API tokens: give it the <code>apiKey</code> capability (
          <code>accounts.{me.name}: apiKey, login</code> in ConfigMap <code>sextant-cm</code>).
        </p>
      )}
      <ErrorBox error={accounts.error} onRetry={accounts.reload} />
      {!accounts.data && !accounts.error && <Loading what="accounts" />}
      {accounts.data?.map((a) => (
        <article key={a.name} className="account" aria-labelledby={`account-${a.name}`}>
          <h3 id={`account-${a.name}`}>
            {a.name} {!a.enabled && <span className="badge badge-warn">disabled</span>}
          </h3>
          <p className="muted">Capabilities: {a.capabilities.join(', ') || 'none'}</p>
          {a.tokens.length === 0 ? (
            <p className="muted">No API tokens.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Token ID</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {a.tokens.map((t) => (
                  <tr key={t.id}>
                    <td className="mono">{t.id}</td>
                    <td>{tokenTime(t, 'issued')}</td>
                    <td>{tokenTime(t, 'expires')}</td>
                    <td>
                      <button type="button" className="danger" onClick={() => setRevoking({ account: a.name, id: t.id })}>
                        Revoke…
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </article>
      ))}
      <Dialog open={generating} title="Generate an API token" onClose={() => setGenerating(false)}>
        {generating && user && (
          <GenerateToken
            account={user.username}
            onClose={() => {
              setGenerating(false);
              accounts.reload();
            }}
          />
        )}
      </Dialog>
      <Dialog open={!!revoking} title="Revoke token" onClose={() => setRevoking(null)}>
        {revoking && (
          <>
            <p>
              Revoke token <span className="mono">{revoking.id}</span> of {revoking.account}? Anything using it is refused from now on.
            </p>
            <ErrorBox error={error} />
            <div className="dialog-actions">
              <button type="button" onClick={() => setRevoking(null)}>
                Cancel
              </button>
              <button type="button" className="danger" onClick={() => void revoke()}>
                Revoke
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}

function GenerateToken({ account, onClose }: { account: string; onClose: () => void }) {
  const [expiresIn, setExpiresIn] = useState('720h');
  const [id, setId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState<TokenResponse | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setToken(
        await api<TokenResponse>(`api/v1/account/${encodeURIComponent(account)}/token`, {
          method: 'POST',
          body: { expiresIn: expiresIn.trim() || undefined, id: id.trim() || undefined },
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (token) {
    return (
      <>
        <p role="status">
          Token <span className="mono">{token.id}</span> was created
          {token.expiresAt ? `; it expires ${formatTime(token.expiresAt)}` : ' and does not expire'}. Copy it now: it is not shown again.
        </p>
        <pre className="token" tabIndex={0} aria-label="The new token">
          {token.token}
        </pre>
        <div className="dialog-actions">
          <CopyButton text={token.token} label="Copy the token" />
          <button type="button" className="primary" onClick={onClose}>
            Done
          </button>
        </div>
      </>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)}>
      <p>A token for the account {account}, for the CLI or CI (SEXTANT_AUTH_TOKEN).</p>
      <div className="field">
        <label htmlFor="token-expires">Expires in</label>
        <input id="token-expires" value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} aria-describedby="token-expires-help" />
        <p id="token-expires-help" className="field-help">
          A duration such as 720h or 30m; empty for a token that does not expire.
        </p>
      </div>
      <div className="field">
        <label htmlFor="token-id">ID (optional)</label>
        <input id="token-id" value={id} onChange={(e) => setId(e.target.value)} />
      </div>
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Generating…' : 'Generate'}
        </button>
      </div>
    </form>
  );
}
