// Unified diffs as the server writes them (`===== KEY (outcome) =====`,
// `# note`, `--- live`, `+++ desired`, `@@ -a,b +c,d @@`, then lines),
// classified for colouring and paired up for a side-by-side view.

export type LineKind = 'title' | 'note' | 'file' | 'hunk' | 'add' | 'del' | 'context' | 'meta';

export interface DiffLine {
  kind: LineKind;
  text: string;
  /** Line numbers in the old / new text (context, del, add lines). */
  oldNo?: number;
  newNo?: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Classify each line of a unified diff, with line numbers. */
export function classifyDiff(text: string): DiffLine[] {
  const out: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('=====')) {
      inHunk = false;
      out.push({ kind: 'title', text: line });
    } else if (!inHunk && line.startsWith('# ')) {
      out.push({ kind: 'note', text: line });
    } else if (!inHunk && (line.startsWith('--- ') || line.startsWith('+++ '))) {
      out.push({ kind: 'file', text: line });
    } else if (HUNK.test(line)) {
      const m = HUNK.exec(line)!;
      oldNo = Number(m[1]);
      newNo = Number(m[3]);
      inHunk = true;
      out.push({ kind: 'hunk', text: line });
    } else if (inHunk && line.startsWith('+')) {
      out.push({ kind: 'add', text: line, newNo: newNo++ });
    } else if (inHunk && line.startsWith('-')) {
      out.push({ kind: 'del', text: line, oldNo: oldNo++ });
    } else if (inHunk && (line.startsWith(' ') || line === '')) {
      out.push({ kind: 'context', text: line, oldNo: oldNo++, newNo: newNo++ });
    } else {
      out.push({ kind: 'meta', text: line });
    }
  }
  return out;
}

export interface SideBySideRow {
  kind: 'pair' | 'hunk' | 'title' | 'note';
  text?: string;
  left?: DiffLine;
  right?: DiffLine;
}

/** Rows for a side-by-side view: context on both sides, each run of
 * deletions paired with the additions that follow it. */
export function sideBySide(lines: readonly DiffLine[]): SideBySideRow[] {
  const rows: SideBySideRow[] = [];
  let dels: DiffLine[] = [];
  let adds: DiffLine[] = [];
  const flush = () => {
    const n = Math.max(dels.length, adds.length);
    for (let i = 0; i < n; i++) rows.push({ kind: 'pair', left: dels[i], right: adds[i] });
    dels = [];
    adds = [];
  };
  for (const l of lines) {
    switch (l.kind) {
      case 'del':
        if (adds.length) flush();
        dels.push(l);
        break;
      case 'add':
        adds.push(l);
        break;
      case 'context':
        flush();
        rows.push({ kind: 'pair', left: l, right: l });
        break;
      case 'hunk':
        flush();
        rows.push({ kind: 'hunk', text: l.text });
        break;
      case 'title':
        flush();
        rows.push({ kind: 'title', text: l.text });
        break;
      case 'note':
        flush();
        rows.push({ kind: 'note', text: l.text });
        break;
      default:
        flush();
    }
  }
  flush();
  return rows;
}

/** Added and removed line counts of a diff. */
export function diffStat(lines: readonly DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.kind === 'add') added++;
    else if (l.kind === 'del') removed++;
  }
  return { added, removed };
}
