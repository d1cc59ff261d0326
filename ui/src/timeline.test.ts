import { describe, expect, it } from 'vitest';
import { buildTimeline, kindOf } from './timeline';
import type { K8sEvent } from './types';

const event = (reason: string, object: string, lastSeen: string, type = 'Normal'): K8sEvent => ({
  type,
  reason,
  message: `${reason} message`,
  object,
  count: 1,
  lastSeen,
  source: 'sextant-controller',
});

describe('timeline', () => {
  it('classifies the reasons the controller and the server record', () => {
    expect(kindOf({ reason: 'DriftDetected', type: 'Warning' })).toBe('drift');
    expect(kindOf({ reason: 'SelfHealApplied', type: 'Normal' })).toBe('self-heal');
    expect(kindOf({ reason: 'SyncFailed', type: 'Warning' })).toBe('failure');
    expect(kindOf({ reason: 'ResourceActionRan', type: 'Normal' })).toBe('action');
    expect(kindOf({ reason: 'BackoffLimitExceeded', type: 'Warning' })).toBe('failure');
    expect(kindOf({ reason: 'Scheduled', type: 'Normal' })).toBe('other');
  });

  it('merges the history and the events newest first, keeping only warnings of other objects', () => {
    const items = buildTimeline(
      [
        { id: 1, revision: 'aaaaaaaaaaaa', deployedAt: '2026-12-07T10:00:00Z', initiatedBy: { automated: true } },
        { id: 2, revision: 'bbbbbbbbbbbb', deployedAt: '2026-12-07T12:00:00Z', initiatedBy: { username: 'alice' } },
      ],
      [
        event('DriftDetected', 'Application/sextant/web', '2026-12-07T11:00:00Z', 'Warning'),
        event('SyncSucceeded', 'Application/sextant/web', '2026-12-07T12:00:01Z'),
        event('BackoffLimitExceeded', 'Job/web/db-migrate', '2026-12-07T11:30:00Z', 'Warning'),
        event('Scheduled', 'Pod/web/web-1', '2026-12-07T11:40:00Z'),
      ],
      'web',
    );
    expect(items.map((i) => [i.kind, i.title])).toEqual([
      ['sync', 'Synced to bbbbbbb by alice'],
      ['failure', 'BackoffLimitExceeded on Job/web/db-migrate'],
      ['drift', 'Drift Detected'],
      ['sync', 'Synced to aaaaaaa automatically'],
    ]);
    expect(items[2].detail).toBe('DriftDetected message');
  });
});
