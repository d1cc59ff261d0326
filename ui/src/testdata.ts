// Test helpers (only imported by *.test.ts).
import type { AppSummary } from './types';

export function summary(name: string, over: Partial<AppSummary> = {}): AppSummary {
  return {
    name,
    project: 'default',
    labels: {},
    repoUrl: 'https://git.example/repo',
    path: 'apps/' + name,
    chart: '',
    targetRevision: 'HEAD',
    destServer: 'https://kubernetes.default.svc',
    destName: 'in-cluster',
    destNamespace: name,
    syncStatus: 'Synced',
    revision: 'abc',
    healthStatus: 'Healthy',
    operationPhase: '',
    lastSyncedAt: '',
    automated: false,
    resourceCount: 1,
    conditions: [],
    resourceVersion: '1',
    links: [],
    ...over,
  };
}
