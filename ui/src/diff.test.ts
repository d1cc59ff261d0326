import { describe, expect, it } from 'vitest';
import { classifyDiff, diffStat, sideBySide } from './diff';

const DIFF = `===== apps/Deployment web/web (changed) =====
# compared without a server-side dry-run
--- live
+++ desired
@@ -3,4 +3,4 @@
 spec:
-  replicas: 1
+  replicas: 3
   template:
---
+++ b
@@ -10 +10,2 @@
 x
+--- not a header
`;

describe('classifyDiff', () => {
  it('classifies each line and numbers them', () => {
    const lines = classifyDiff(DIFF);
    expect(lines.map((l) => l.kind)).toEqual([
      'title', 'note', 'file', 'file', 'hunk',
      'context', 'del', 'add', 'context',
      // Inside a hunk, `---` and `+++` are a deletion and an addition.
      'del', 'add',
      'hunk', 'context', 'add',
    ]);
    expect(lines[5]).toMatchObject({ oldNo: 3, newNo: 3 });
    expect(lines[6]).toMatchObject({ kind: 'del', oldNo: 4 });
    expect(lines[7]).toMatchObject({ kind: 'add', newNo: 4 });
    expect(lines[8]).toMatchObject({ oldNo: 5, newNo: 5 });
    expect(lines[13]).toMatchObject({ kind: 'add', newNo: 11, text: '+--- not a header' });
  });

  it('handles empty input and a new title resetting the hunk', () => {
    expect(classifyDiff('')).toEqual([]);
    const l = classifyDiff('@@ -1 +1 @@\n-a\n+b\n===== v1/ConfigMap x (added) =====\n--- live\n');
    expect(l.map((x) => x.kind)).toEqual(['hunk', 'del', 'add', 'title', 'file']);
  });

  it('counts changes', () => {
    expect(diffStat(classifyDiff(DIFF))).toEqual({ added: 3, removed: 2 });
  });
});

describe('sideBySide', () => {
  it('pairs deletions with the additions after them', () => {
    const rows = sideBySide(classifyDiff('@@ -1,3 +1,2 @@\n a\n-b\n-c\n+B\n d\n'));
    expect(rows.map((r) => [r.kind, r.left?.text ?? null, r.right?.text ?? null])).toEqual([
      ['hunk', null, null],
      ['pair', ' a', ' a'],
      ['pair', '-b', '+B'],
      ['pair', '-c', null],
      ['pair', ' d', ' d'],
    ]);
  });
});
