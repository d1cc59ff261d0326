import { useVirtualizer } from '@tanstack/react-virtual';
import {
  startTransition,
  useCallback,
  useEffect,
  useMemo,
  useOptimistic,
  useRef,
  useState,
  type KeyboardEvent,
} from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, apiUrl, isAbort } from '../api';
import { applyEvents, Batcher, parseAppEvent } from '../appStream';
import { ago, destination, ErrorBox, Status, shortRev, useAsync, useHeight, usePosition } from '../components/common';
import {
  countStatuses,
  countText,
  emptyFilters,
  filtersToApiQuery,
  filtersToSearch,
  hasFilters,
  HEALTH_STATUSES,
  parseFilters,
  parseSelector,
  SYNC_STATUSES,
  toggle,
  type Filters,
} from '../filters';
import { useEventSource } from '../sse';
import { sourceLabel, sourceTitle } from '../source';
import type { AppEventData, AppList as AppListT, AppSummary, Project } from '../types';

const PAGE = 2000;
/** The first page: what fills a screen, shown before the rest arrives. */
const FIRST_PAGE = 100;
const ROW_HEIGHT = 44;
const TILE_HEIGHT = 168;
const TILE_MIN_WIDTH = 300;

/** Every page of the list for `query`, each handed to `onPage` with the
 * ones before it as it arrives (a small first page, so the screen fills
 * at once, then large ones); the first page's eventId is where the stream
 * starts (later pages' changes are replayed: harmless). */
async function listAll(
  query: Record<string, string>,
  signal: AbortSignal,
  onPage: (items: AppSummary[], total: number) => void,
): Promise<{ items: AppSummary[]; eventId: string }> {
  const items: AppSummary[] = [];
  let eventId = '';
  let cont: string | undefined;
  do {
    const page: AppListT = await api<AppListT>('api/v1/applications', {
      query: { ...query, limit: String(items.length === 0 ? FIRST_PAGE : PAGE), continue: cont },
      signal,
    });
    if (!eventId) eventId = page.eventId;
    items.push(...page.items);
    cont = page.continue;
    if (cont) onPage([...items], page.total);
  } while (cont);
  return { items, eventId };
}

export function AppList() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseFilters(params), [params]);
  const apiQuery = useMemo(() => filtersToApiQuery(filters), [filters]);
  const queryKey = JSON.stringify(apiQuery);
  // The router changes the URL in a React transition, which can take a
  // while when the list is long; until it commits, a controlled checkbox
  // or radio would snap back to its old state. The controls show `shown`,
  // the filters as the user just set them, and the data follows the URL.
  const [shown, showFilters] = useOptimistic(filters);
  const setFilters = useCallback(
    (f: Filters, replace = false) =>
      startTransition(() => {
        showFilters(f);
        setParams(new URLSearchParams(filtersToSearch(f)), { replace });
      }),
    [setParams, showFilters],
  );
  // Change some filters on top of the URL as it is when the change lands
  // (the text fields' debounce): a late timer never undoes a checkbox or
  // view change made in between.
  const patchFilters = useCallback(
    (patch: Partial<Filters>) =>
      setParams((prev) => new URLSearchParams(filtersToSearch({ ...parseFilters(prev), ...patch })), {
        replace: true,
      }),
    [setParams],
  );

  const [items, setItems] = useState<readonly AppSummary[]>([]);
  const [eventId, setEventId] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // While later pages load: how many apps the server has in all.
  const [expected, setExpected] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);

  // Live updates: the stream is not filtered by the server, so an app that
  // stops matching the filters arrives too and leaves the list here.
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const batcher = useMemo(
    () =>
      new Batcher<AppEventData>((batch) => setItems((prev) => applyEvents(prev, batch, filtersRef.current))),
    [],
  );
  useEffect(() => () => batcher.dispose(), [batcher]);

  useEffect(() => {
    const ctl = new AbortController();
    // Events queued for the list being replaced do not apply to the new one.
    batcher.dispose();
    setLoading(true);
    setError(null);
    setEventId(null);
    setExpected(null);
    listAll(JSON.parse(queryKey) as Record<string, string>, ctl.signal, (page, total) => {
      if (ctl.signal.aborted) return;
      setItems(page);
      setExpected(total);
    })
      .then(({ items, eventId }) => {
        setItems(items);
        setExpected(null);
        setEventId(eventId);
      })
      .catch((e) => {
        if (!isAbort(e)) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [queryKey, generation, batcher]);

  const streamUrl = eventId ? apiUrl('api/v1/stream/applications', { lastEventId: eventId }) : null;
  const { state: streamState, reconnect } = useEventSource(streamUrl, {
    application: (data) => {
      const e = parseAppEvent(data);
      if (e) batcher.push(e);
    },
    reset: () => {
      batcher.dispose();
      setGeneration((g) => g + 1);
    },
  });

  const counts = useMemo(() => countStatuses(items), [items]);
  const projects = useAsync((signal) => api<Project[]>('api/v1/projects', { signal }), []);

  return (
    <div className="app-list-page">
      <div className="page-title">
        <h1>Applications</h1>
        <span className="count" aria-live="polite">
          {countText(loading, items.length, expected)}
        </span>
        <LiveState state={eventId ? streamState : 'connecting'} onReconnect={reconnect} />
        <div className="spacer" />
        <fieldset className="view-toggle">
          <legend className="visually-hidden">View</legend>
          {(['list', 'tiles'] as const).map((v) => (
            <label key={v} className={shown.view === v ? 'toggle on' : 'toggle'}>
              <input
                type="radio"
                name="view"
                value={v}
                checked={shown.view === v}
                onChange={() => setFilters({ ...shown, view: v }, true)}
              />
              {v === 'list' ? 'List' : 'Tiles'}
            </label>
          ))}
        </fieldset>
      </div>
      <div className="app-list-layout">
        <FilterPanel
          filters={shown}
          setFilters={setFilters}
          patchFilters={patchFilters}
          counts={counts}
          projects={(projects.data ?? []).map((p) => p.metadata.name)}
        />
        <section className="app-list-main" aria-label="Application list">
          <ErrorBox error={error} onRetry={() => setGeneration((g) => g + 1)} />
          {!loading && !error && items.length === 0 && (
            <div className="empty">
              {hasFilters(filters) ? (
                <p>
                  No application matches these filters.{' '}
                  <button type="button" onClick={() => setFilters({ ...emptyFilters(), view: filters.view })}>
                    Clear filters
                  </button>
                </p>
              ) : (
                <p>
                  No applications yet, or none you may see. Create one with <code>sextant app create</code> or by
                  applying an Application to the cluster.
                </p>
              )}
            </div>
          )}
          {items.length > 0 &&
            (filters.view === 'tiles' ? <AppTiles items={items} /> : <AppRows items={items} />)}
        </section>
      </div>
    </div>
  );
}

function LiveState({ state, onReconnect }: { state: string; onReconnect: () => void }) {
  if (state === 'open') {
    return (
      <span className="live live-on" title="Changes appear as they happen">
        ● Live
      </span>
    );
  }
  if (state === 'closed') {
    return (
      <span className="live live-off" role="status">
        Live updates stopped.{' '}
        <button type="button" className="link-button" onClick={onReconnect}>
          Reconnect
        </button>
      </span>
    );
  }
  return <span className="live">Connecting…</span>;
}

function FilterPanel({
  filters,
  setFilters,
  patchFilters,
  counts,
  projects,
}: {
  filters: Filters;
  setFilters: (f: Filters, replace?: boolean) => void;
  patchFilters: (patch: Partial<Filters>) => void;
  counts: { sync: Record<string, number>; health: Record<string, number> };
  projects: string[];
}) {
  // Text filters are applied when typing pauses.
  const [text, setText] = useState({
    search: filters.search,
    selector: filters.selector,
    repo: filters.repo,
    cluster: filters.cluster,
    namespace: filters.namespace,
  });
  useEffect(() => {
    setText({
      search: filters.search,
      selector: filters.selector,
      repo: filters.repo,
      cluster: filters.cluster,
      namespace: filters.namespace,
    });
  }, [filters.search, filters.selector, filters.repo, filters.cluster, filters.namespace]);
  const selectorError = useMemo(() => {
    try {
      parseSelector(text.selector);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  }, [text.selector]);
  useEffect(() => {
    const changed = (Object.keys(text) as (keyof typeof text)[]).filter((k) => text[k] !== filters[k]);
    if (changed.length === 0 || selectorError) return;
    const patch = Object.fromEntries(changed.map((k) => [k, text[k]])) as Partial<Filters>;
    const t = setTimeout(() => patchFilters(patch), 300);
    return () => clearTimeout(t);
  }, [text, filters, patchFilters, selectorError]);

  const allProjects = [...new Set([...projects, ...filters.project])].sort();
  const field = (k: keyof typeof text, label: string, placeholder: string, describedBy?: string) => (
    <div className="field">
      <label htmlFor={`filter-${k}`}>{label}</label>
      <input
        id={`filter-${k}`}
        type={k === 'search' ? 'search' : 'text'}
        value={text[k]}
        placeholder={placeholder}
        aria-describedby={describedBy}
        aria-invalid={k === 'selector' && !!selectorError}
        onChange={(e) => setText({ ...text, [k]: e.target.value })}
      />
    </div>
  );

  return (
    <aside className="filters" aria-label="Filters">
      {field('search', 'Name', 'part of the name')}
      <fieldset>
        <legend>Sync status</legend>
        {SYNC_STATUSES.map((s) => (
          <label key={s} className="check">
            <input type="checkbox" checked={filters.sync.includes(s)} onChange={() => setFilters(toggle(filters, 'sync', s))} />
            <Status kind="sync" value={s} />
            <span className="n">{counts.sync[s] ?? 0}</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Health status</legend>
        {HEALTH_STATUSES.map((s) => (
          <label key={s} className="check">
            <input
              type="checkbox"
              checked={filters.health.includes(s)}
              onChange={() => setFilters(toggle(filters, 'health', s))}
            />
            <Status kind="health" value={s} />
            <span className="n">{counts.health[s] ?? 0}</span>
          </label>
        ))}
      </fieldset>
      {allProjects.length > 0 && (
        <fieldset>
          <legend>Project</legend>
          {allProjects.map((p) => (
            <label key={p} className="check">
              <input
                type="checkbox"
                checked={filters.project.includes(p)}
                onChange={() => setFilters(toggle(filters, 'project', p))}
              />
              {p}
            </label>
          ))}
        </fieldset>
      )}
      {field('selector', 'Labels', 'team=web, !legacy', 'selector-help')}
      <p id="selector-help" className={selectorError ? 'field-error' : 'field-help'}>
        {selectorError || 'key=value, key!=value, key or !key, comma-separated'}
      </p>
      {field('repo', 'Repository', 'https://git.example.com/repo')}
      {field('cluster', 'Cluster', 'server URL or name')}
      {field('namespace', 'Namespace', 'destination namespace')}
      {hasFilters(filters) && (
        <button type="button" onClick={() => setFilters({ ...emptyFilters(), view: filters.view })}>
          Clear filters
        </button>
      )}
    </aside>
  );
}

/** Arrow keys move between items, Enter opens one (a link). */
function useKeyboardNav(count: number, columns: number, scrollTo: (index: number) => void) {
  const [active, setActive] = useState(0);
  const container = useRef<HTMLDivElement>(null);
  const pendingFocus = useRef(false);
  const navigate = useNavigate();
  const clamped = Math.min(active, Math.max(count - 1, 0));

  useEffect(() => {
    if (!pendingFocus.current) return;
    const el = container.current?.querySelector<HTMLElement>(`[data-index="${clamped}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      pendingFocus.current = false;
    }
  });

  const onKeyDown = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor((container.current?.clientHeight ?? 400) / ROW_HEIGHT)) * columns;
    const moves: Record<string, number> = {
      ArrowDown: columns,
      ArrowUp: -columns,
      PageDown: page,
      PageUp: -page,
      ...(columns > 1 ? { ArrowRight: 1, ArrowLeft: -1 } : {}),
    };
    let next: number | null = null;
    if (e.key in moves) next = clamped + moves[e.key];
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = count - 1;
    else if (e.key === 'Enter') {
      const name = (e.target as HTMLElement).closest<HTMLElement>('[data-name]')?.dataset.name;
      if (name) {
        e.preventDefault();
        navigate(`/applications/${encodeURIComponent(name)}`);
      }
      return;
    }
    if (next === null) return;
    e.preventDefault();
    next = Math.max(0, Math.min(count - 1, next));
    setActive(next);
    pendingFocus.current = true;
    scrollTo(next);
  };
  return { active: clamped, setActive, container, onKeyDown };
}

function AppRows({ items }: { items: readonly AppSummary[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const nav = useKeyboardNav(items.length, 1, (i) => v.scrollToIndex(i, { align: 'auto' }));
  const inner = useRef<HTMLDivElement>(null);
  useHeight(inner, v.getTotalSize());
  return (
    <div className="rows-wrap">
      <div className="row row-head" aria-hidden="true">
        <span>Name</span>
        <span>Project</span>
        <span>Sync</span>
        <span>Health</span>
        <span>Source</span>
        <span>Destination</span>
        <span>Last sync</span>
      </div>
      <div
        className="scroller"
        ref={(el) => {
          scroller.current = el;
          nav.container.current = el;
        }}
        onKeyDown={nav.onKeyDown}
      >
        <div ref={inner} className="virtual-inner" role="list" aria-label={`${items.length} applications`}>
          {v.getVirtualItems().map((row) => {
            const app = items[row.index];
            return (
              <AppRow
                key={app.name}
                app={app}
                index={row.index}
                y={row.start}
                active={row.index === nav.active}
                onFocus={() => nav.setActive(row.index)}
                setsize={items.length}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

function AppRow({
  app,
  index,
  y,
  active,
  onFocus,
  setsize,
}: {
  app: AppSummary;
  index: number;
  y: number;
  active: boolean;
  onFocus: () => void;
  setsize: number;
}) {
  const ref = useRef<HTMLAnchorElement>(null);
  usePosition(ref, y);
  const problem = app.conditions.length > 0;
  return (
    <Link
      ref={ref}
      to={`/applications/${encodeURIComponent(app.name)}`}
      className={`row app-row${problem ? ' has-conditions' : ''}`}
      role="listitem"
      aria-posinset={index + 1}
      aria-setsize={setsize}
      data-index={index}
      data-name={app.name}
      tabIndex={active ? 0 : -1}
      onFocus={onFocus}
    >
      <span className="name">
        {app.name}
        {problem && (
          <span className="badge badge-warn" title={app.conditions.join(', ')}>
            ⚠ {app.conditions.length}
          </span>
        )}
      </span>
      <span>{app.project}</span>
      <span>
        <Status kind="sync" value={app.syncStatus} />
      </span>
      <span>
        <Status kind="health" value={app.healthStatus} />
        {app.operationPhase === 'Running' && <span className="badge">syncing</span>}
      </span>
      <span className="mono ellipsis" title={sourceTitle(app)}>
        {sourceLabel(app)} @ {shortRev(app.targetRevision)}
      </span>
      <span className="ellipsis" title={app.destServer}>
        {destination(app.destServer, app.destName, app.destNamespace)}
      </span>
      <span>{ago(app.lastSyncedAt)}</span>
    </Link>
  );
}

function useColumns(ref: React.RefObject<HTMLDivElement | null>): number {
  const [cols, setCols] = useState(3);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setCols(Math.max(1, Math.floor(el.clientWidth / TILE_MIN_WIDTH)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return cols;
}

function AppTiles({ items }: { items: readonly AppSummary[] }) {
  const scroller = useRef<HTMLDivElement | null>(null);
  const cols = useColumns(scroller);
  const rows = Math.ceil(items.length / cols);
  const v = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => TILE_HEIGHT,
    overscan: 3,
  });
  const nav = useKeyboardNav(items.length, cols, (i) => v.scrollToIndex(Math.floor(i / cols), { align: 'auto' }));
  const inner = useRef<HTMLDivElement>(null);
  useHeight(inner, v.getTotalSize());
  return (
    <div
      className="scroller tiles-scroller"
      ref={(el) => {
        scroller.current = el;
        nav.container.current = el;
      }}
      onKeyDown={nav.onKeyDown}
    >
      <div ref={inner} className="virtual-inner" role="list" aria-label={`${items.length} applications`}>
        {v.getVirtualItems().map((row) => (
          <TileRow key={row.index} y={row.start} cols={cols}>
            {items.slice(row.index * cols, row.index * cols + cols).map((app, j) => {
              const index = row.index * cols + j;
              return (
                <AppTile
                  key={app.name}
                  app={app}
                  index={index}
                  active={index === nav.active}
                  onFocus={() => nav.setActive(index)}
                  setsize={items.length}
                />
              );
            })}
          </TileRow>
        ))}
      </div>
    </div>
  );
}

function TileRow({ y, cols, children }: { y: number; cols: number; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  usePosition(ref, y);
  return (
    <div ref={ref} className={`tile-row cols-${Math.min(cols, 8)}`} role="presentation">
      {children}
    </div>
  );
}

function AppTile({
  app,
  index,
  active,
  onFocus,
  setsize,
}: {
  app: AppSummary;
  index: number;
  active: boolean;
  onFocus: () => void;
  setsize: number;
}) {
  return (
    <Link
      to={`/applications/${encodeURIComponent(app.name)}`}
      className={`tile st-border-${app.healthStatus.toLowerCase()}`}
      role="listitem"
      aria-posinset={index + 1}
      aria-setsize={setsize}
      data-index={index}
      data-name={app.name}
      tabIndex={active ? 0 : -1}
      onFocus={onFocus}
    >
      <span className="tile-name">{app.name}</span>
      <span className="tile-status">
        <Status kind="health" value={app.healthStatus} />
        <Status kind="sync" value={app.syncStatus} />
      </span>
      <dl className="tile-facts">
        <dt>Project</dt>
        <dd>{app.project}</dd>
        <dt>Source</dt>
        <dd className="ellipsis mono" title={sourceTitle(app)}>
          {sourceLabel(app)}
        </dd>
        <dt>Destination</dt>
        <dd className="ellipsis" title={app.destServer}>
          {destination(app.destServer, app.destName, app.destNamespace)}
        </dd>
        <dt>Last sync</dt>
        <dd>{ago(app.lastSyncedAt)}</dd>
      </dl>
      {app.conditions.length > 0 && <span className="badge badge-warn">⚠ {app.conditions.join(', ')}</span>}
    </Link>
  );
}
