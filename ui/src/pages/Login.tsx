import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api';
import { useAuth } from '../auth';

export function Login() {
  const { login, notice } = useAuth();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await login(username.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setError('Invalid username or password. Check both and try again; after 5 failures the account is locked for 5 minutes.');
      } else {
        setError(errorMessage(err));
      }
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-card">
      <h1>
        <img src="favicon.svg" alt="" width="32" height="32" /> Sextant
      </h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-describedby={error ? 'login-error' : undefined}>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          autoFocus
        />
        {error && (
          <p id="login-error" className="error-box" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p className="hint">
        The first admin password is printed by the server at its first start and kept in the Secret{' '}
        <code>sextant-initial-admin-secret</code>.
      </p>
    </div>
  );
}
