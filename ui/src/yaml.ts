// A small JSON-to-YAML writer for showing Kubernetes objects the way
// people read them (block style, keys in their order, strings quoted
// only when YAML would read them as something else).

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9 _./:@+-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.inf|\.nan)$/i;

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v !== 'string') return String(v);
  if (v === '') return "''";
  if (PLAIN.test(v) && !RESERVED.test(v) && !v.endsWith(' ') && !v.includes(': ') && !v.includes(' #')) {
    return v;
  }
  return JSON.stringify(v);
}

function key(k: string): string {
  return k !== '' && PLAIN.test(k) && !RESERVED.test(k) && !k.includes(': ') ? k : JSON.stringify(k);
}

function block(s: string, indent: string): string {
  const keep = s.endsWith('\n') ? '' : '-';
  const body = s.replace(/\n$/, '').split('\n').map((l) => (l ? indent + l : '')).join('\n');
  return `|${keep}\n${body}`;
}

function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function write(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === 'object' && item !== null && !isEmpty(item)) {
        const sub: string[] = [];
        write(item, indent + '  ', sub);
        // The first line of the item goes on the dash's line.
        out.push(`${indent}- ${sub[0].slice(indent.length + 2)}`, ...sub.slice(1));
      } else {
        out.push(`${indent}- ${inline(item, indent + '  ')}`);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val === 'object' && val !== null && !isEmpty(val)) {
      out.push(`${indent}${key(k)}:`);
      write(val, Array.isArray(val) ? indent : indent + '  ', out);
    } else {
      out.push(`${indent}${key(k)}: ${inline(val, indent + '  ')}`);
    }
  }
}

function inline(v: unknown, indent: string): string {
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'object' && v !== null) return '{}';
  if (typeof v === 'string' && v.includes('\n')) return block(v, indent);
  if (v === undefined) return 'null';
  return scalar(v as string | number | boolean | null);
}

/** `value` as a YAML document. */
export function toYaml(value: unknown): string {
  if (typeof value !== 'object' || value === null || isEmpty(value)) return inline(value, '') + '\n';
  const out: string[] = [];
  write(value, '', out);
  return out.join('\n') + '\n';
}
