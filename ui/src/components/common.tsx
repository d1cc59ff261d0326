import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type ReactNode,
  type RefObject,
} from 'react';
import { errorMessage, isAbort } from '../api';

/** Sync and health statuses as an icon and a word (never colour alone). */
const ICONS: Record<string, string> = {
  Synced: '✓',
  OutOfSync: '≠',
  Healthy: '♥',
  Progressing: '↻',
  Degraded: '✕',
  Suspended: '‖',
  Missing: '?',
  Unknown: '?',
  Running: '↻',
  Succeeded: '✓',
  Failed: '✕',
  Error: '✕',
  Terminating: '■',
};

export function Status({ value, kind }: { value?: string; kind: 'sync' | 'health' | 'phase' }) {
  const v = value || 'Unknown';
  return (
    <span className={`status status-${kind} st-${v.toLowerCase()}`} title={`${kind}: ${v}`}>
      <span aria-hidden="true" className="status-icon">
        {ICONS[v] ?? '•'}
      </span>
      {v}
    </span>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  // Bring a new message into sight: in a dialog that scrolls (the Sync
  // dialog with a long diff) it appears above the buttons, below the fold.
  useEffect(() => {
    if (error) ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [error]);
  if (!error) return null;
  return (
    <div role="alert" className="error-box" ref={ref}>
      <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** A modal dialog (the native <dialog>: focus is kept inside, Escape
 * closes it). */
export function Dialog({
  open,
  title,
  onClose,
  children,
  wide,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby="dialog-title"
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <header className="dialog-header">
            <h2 id="dialog-title">{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ✕
            </button>
          </header>
          <div className="dialog-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

/** Positions an element with CSSOM (`el.style.transform`), which the
 * Content-Security-Policy allows, unlike a `style` attribute. */
export function usePosition(ref: RefObject<HTMLElement | null>, y: number, height?: number): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.transform = `translateY(${y}px)`;
    if (height !== undefined) el.style.height = `${height}px`;
  }, [ref, y, height]);
}

/** Sets an element's height with CSSOM. */
export function useHeight(ref: RefObject<HTMLElement | null>, height: number): void {
  useLayoutEffect(() => {
    if (ref.current) ref.current.style.height = `${height}px`;
  }, [ref, height]);
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Load `fn` when `deps` change (aborting the previous load). */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    fn(ctl.signal)
      .then((d) => {
        if (!ctl.signal.aborted) setData(d);
      })
      .catch((e) => {
        if (!isAbort(e) && !ctl.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

export function formatTime(iso?: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}

export function ago(iso?: string, now = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Where an app deploys to, short: `namespace @ cluster`. */
export function destination(server?: string, name?: string, namespace?: string): string {
  const cluster = name || (server === 'https://kubernetes.default.svc' ? 'in-cluster' : server || '');
  return `${namespace || '—'} @ ${cluster}`;
}

export const shortRev = (r?: string): string => (r && /^[0-9a-f]{40}$/.test(r) ? r.slice(0, 7) : r || '—');
