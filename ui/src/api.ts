// The API client: every URL is relative to the page's base (the server
// may run under a path prefix and writes it into <base href>), the
// session cookie goes along by itself, and every request that changes
// something carries the session's CSRF token.

export interface ErrorBody {
  error: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** The base URL every API path is resolved against (ends with `/`). */
export function baseUrl(doc: { baseURI: string } = document): string {
  const u = new URL(doc.baseURI);
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) {
    u.pathname = u.pathname.replace(/[^/]*$/, '');
  }
  return u.toString();
}

/** The path prefix the app is served under, without a trailing slash
 * (`""` at the root), for the router. */
export function basePath(doc: { baseURI: string } = document): string {
  return new URL(baseUrl(doc)).pathname.replace(/\/+$/, '');
}

/** `path` (like `api/v1/applications`) with `query`, as a full URL. */
export function apiUrl(path: string, query?: Record<string, string | undefined>): string {
  const u = new URL(path.replace(/^\/+/, ''), baseUrl());
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== '') u.searchParams.set(k, v);
  }
  return u.toString();
}

let csrfToken: string | null = null;
const unauthenticatedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the server says the session is gone (401). */
export function onUnauthenticated(fn: () => void): () => void {
  unauthenticatedListeners.add(fn);
  return () => unauthenticatedListeners.delete(fn);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not treat a 401 as "the session ended" (login, userinfo). */
  quiet401?: boolean;
}

/** Call the API; resolves to the parsed JSON body, rejects with ApiError. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-Sextant-CSRF'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(
      0,
      'network',
      'Could not reach the Sextant server. Check that it is running and that this machine can reach it, then try again.',
    );
  }
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    const err = body as Partial<ErrorBody> | undefined;
    const retry = Number(response.headers.get('Retry-After'));
    const error = new ApiError(
      response.status,
      err?.error ?? `http_${response.status}`,
      err?.message ?? describeStatus(response.status, text),
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
    if (response.status === 401 && !opts.quiet401) {
      for (const fn of unauthenticatedListeners) fn();
    }
    throw error;
  }
  return body as T;
}

function describeStatus(status: number, text: string): string {
  const detail = text.trim().slice(0, 200);
  if (status >= 500) {
    return `The server failed (HTTP ${status})${detail ? `: ${detail}` : ''}. Try again; if it keeps failing, look at the server's log.`;
  }
  return `The server answered HTTP ${status}${detail ? `: ${detail}` : ''}.`;
}

/** A message for a person from any error. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return `${e.message} Ask an administrator for that permission.`;
    if (e.status === 429 && e.retryAfter) return `${e.message} (try again in ${e.retryAfter} s)`;
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export const isAbort = (e: unknown): boolean =>
  e instanceof DOMException && e.name === 'AbortError';
