// Shapes of the API's answers (see /api/openapi.json).

export interface Link {
  title: string;
  url: string;
}

export interface AppSummary {
  name: string;
  project: string;
  labels: Record<string, string>;
  repoUrl: string;
  path: string;
  /** The chart, when the source is a chart of a chart repository. */
  chart: string;
  targetRevision: string;
  destServer: string;
  destName: string;
  destNamespace: string;
  syncStatus: string;
  revision: string;
  healthStatus: string;
  operationPhase: string;
  lastSyncedAt: string;
  automated: boolean;
  resourceCount: number;
  conditions: string[];
  resourceVersion: string;
  links: Link[];
}

export interface Counts {
  sync: Record<string, number>;
  health: Record<string, number>;
}

export interface AppList {
  items: AppSummary[];
  total: number;
  counts: Counts;
  continue?: string;
  eventId: string;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface AppEventData {
  type: ChangeType;
  application: AppSummary;
}

export interface NodeKey {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface TreeNode extends NodeKey {
  version: string;
  uid: string;
  parentRefs: NodeKey[];
  health: { status: string; message?: string };
  info: { name: string; value: string }[];
  createdAt?: string;
  resourceVersion: string;
  tracked: boolean;
  syncStatus?: string;
  hookPhase?: string;
}

export interface ResourceTree {
  nodes: TreeNode[];
}

/** A resource action an object offers (restart, create-job, a custom one). */
export interface ResourceAction {
  name: string;
  disabled: boolean;
  displayName?: string;
  iconClass?: string;
}

export interface ManagedResource extends NodeKey {
  version: string;
  status?: string;
  health?: string;
  requiresPruning: boolean;
  liveState?: unknown;
  targetState?: unknown;
}

export interface K8sEvent {
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  lastSeen: string;
  source: string;
}

export interface ObjectDiffJson {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  outcome?: string;
  mode?: string;
  paths?: string[];
  diff: string;
  [key: string]: unknown;
}

export interface DiffResponse {
  application: string;
  revision: string;
  commit?: string | null;
  summary?: Record<string, number>;
  objects: ObjectDiffJson[];
  errors?: (NodeKey & { error: string })[];
  wouldBePruned: NodeKey[];
  differs: boolean;
}

export interface UserInfo {
  loggedIn: boolean;
  username: string;
  tokenKind: string;
  roles: string[];
  csrfToken?: string;
  expiresAt?: string;
}

export interface SessionResponse {
  username: string;
  csrfToken: string;
  expiresAt: string;
  token?: string;
}

export interface TokenRecord {
  id: string;
  iat?: number;
  exp?: number;
  issuedAt?: string;
  expiresAt?: string;
  [key: string]: unknown;
}

export interface Account {
  name: string;
  enabled: boolean;
  capabilities: string[];
  tokens: TokenRecord[];
}

export interface TokenResponse {
  token: string;
  id: string;
  expiresAt?: string;
}

export interface Repository {
  name: string;
  url: string;
  type: string;
  scope: string;
  username?: string;
  hasPassword: boolean;
  project?: string;
}

export interface Cluster {
  name: string;
  server: string;
  applications: number;
}

export interface OperationResponse {
  application: string;
  requestId: string;
  message: string;
}

/** An Application as the CRD has it; only what the UI reads is typed. */
export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
}

export interface Application {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec: {
    project?: string;
    source?: AppSource;
    sources?: AppSource[];
    destination?: { server?: string; name?: string; namespace?: string };
    syncPolicy?: { automated?: Record<string, unknown> | null; syncOptions?: string[] };
  };
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    conditions?: { type: string; message: string; lastTransitionTime?: string }[];
    operationState?: {
      phase?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      operation?: { initiatedBy?: { username?: string; automated?: boolean } };
      syncResult?: { revision?: string; resources?: unknown[] };
    };
    history?: HistoryEntry[];
    resources?: AppResourceStatus[];
    summary?: { images?: string[]; externalURLs?: string[] };
    reconciledAt?: string;
  };
}

export interface AppResourceStatus {
  group?: string;
  version?: string;
  kind: string;
  namespace?: string;
  name: string;
  status?: string;
  health?: { status?: string; message?: string };
  hook?: boolean;
  requiresPruning?: boolean;
}

export interface AppSource {
  repoURL?: string;
  path?: string;
  targetRevision?: string;
  chart?: string;
  /** Lends its files to the other sources as `$ref/...`. */
  ref?: string;
  name?: string;
}

export interface HistoryEntry {
  id: number;
  revision?: string;
  revisions?: string[];
  deployedAt?: string;
  deployStartedAt?: string;
  source?: AppSource;
  initiatedBy?: { username?: string; automated?: boolean };
}

/** An AppProject as the CRD has it. */
export interface Project {
  metadata: { name: string };
  spec?: {
    description?: string;
    sourceRepos?: string[];
    destinations?: { server?: string; name?: string; namespace?: string }[];
    clusterResourceWhitelist?: { group: string; kind: string }[];
  };
}

/** An ApplicationSet as the API returns it (Argo CD's fields). */
export interface ApplicationSet {
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  spec: {
    goTemplate?: boolean;
    generators?: Record<string, unknown>[];
    template?: { metadata?: { name?: string }; spec?: { project?: string } };
    syncPolicy?: { applicationsSync?: string; preserveResourcesOnDeletion?: boolean };
  };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
    resources?: { name: string; status?: string; health?: { status?: string; message?: string } }[];
  };
}
