import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAuth } from '../auth';
import { passwordProblem } from '../password';
import { Dialog, ErrorBox } from './common';

/** The top bar's "Password…" button: every user changes their own
 * password (giving the current one), then signs in again. */
export function ChangePasswordButton({ account }: { account: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Password…
      </button>
      <Dialog open={open} title="Change your password" onClose={() => setOpen(false)}>
        {open && <ChangePassword account={account} onCancel={() => setOpen(false)} />}
      </Dialog>
    </>
  );
}

function ChangePassword({ account, onCancel }: { account: string; onCancel: () => void }) {
  const { logout } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const problem = next || again ? passwordProblem(current, next, again) : null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (passwordProblem(current, next, again)) return;
    setBusy(true);
    setError(null);
    try {
      await api('api/v1/account/password', {
        method: 'PUT',
        body: { currentPassword: current, newPassword: next, name: account },
      });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (done) {
    return (
      <>
        <p role="status">The password of {account} was changed. Sessions begun with the old one end: sign in again with the new one.</p>
        <div className="dialog-actions">
          <button type="button" className="primary" onClick={() => void logout()}>
            Sign in again
          </button>
        </div>
      </>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)}>
      <input type="text" name="username" autoComplete="username" value={account} readOnly hidden />
      <div className="field">
        <label htmlFor="password-current">Current password</label>
        <input
          id="password-current"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="password-new">New password</label>
        <input
          id="password-new"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          maxLength={256}
          aria-describedby="password-rules"
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <p id="password-rules" className="field-help">
          8 to 256 characters.
        </p>
      </div>
      <div className="field">
        <label htmlFor="password-again">New password again</label>
        <input
          id="password-again"
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={!!problem}
          aria-describedby={problem ? 'password-problem' : undefined}
          value={again}
          onChange={(e) => setAgain(e.target.value)}
        />
      </div>
      {problem && (
        <p id="password-problem" className="field-error" role="alert">
          {problem}
        </p>
      )}
      <ErrorBox error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || !!problem || !current}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}
