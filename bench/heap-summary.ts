/**
 * `tsx bench/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top K]`:
 * what the second V8 heap snapshot holds more of than the first, by object kind (constructor or
 * closure name, V8's node name), as Markdown: count and self size added, and with `--per N` both
 * divided by N (e.g. the subscribers added between two levels of bench/fanout.ts). Self sizes
 * only: an object's retained size is not summed, so the rows add up to the heap's growth.
 */
import { readFileSync } from 'node:fs';

/** The parts of a .heapsnapshot this script reads. */
interface HeapSnapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[];
      readonly node_types: readonly unknown[];
    };
  };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

/** Count and self size per `type:name` of every node. */
function tally(file: string): Map<string, { count: number; bytes: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0] as readonly string[];
  const width = fields.length;
  const at = (name: string) => fields.indexOf(name);
  const [typeAt, nameAt, sizeAt] = [at('type'), at('name'), at('self_size')];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] as number] ?? '?';
    const raw = heap.strings[heap.nodes[i + nameAt] as number] ?? '?';
    // Strings and numbers are named by their value: count them by kind only.
    const name =
      type === 'string' ||
      type === 'number' ||
      type === 'concatenated string' ||
      type === 'sliced string'
        ? ''
        : raw.slice(0, 60);
    const key = `${type}:${name}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += heap.nodes[i + sizeAt] as number;
    out.set(key, entry);
  }
  return out;
}

const [before, after] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
if (!before || !after) {
  process.stderr.write(
    'usage: tsx bench/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top K]\n',
  );
  process.exit(2);
}
const option = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const per = option('--per', 1);
const top = option('--top', 40);
const a = tally(before);
const b = tally(after);
const grown = [...b]
  .map(([key, v]) => {
    const was = a.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: v.count - was.count, bytes: v.bytes - was.bytes };
  })
  .sort((x, y) => y.bytes - x.bytes);
const total = grown.reduce((n, g) => n + g.bytes, 0);
const lines = [
  `Heap growth from ${before} to ${after}: ${(total / 2 ** 20).toFixed(1)} MiB self size${per > 1 ? `, ${(total / per / 1024).toFixed(2)} KiB per 1 of ${per}` : ''}.`,
  '',
  `| kind:name | objects${per > 1 ? ' per 1' : ''} | bytes${per > 1 ? ' per 1' : ''} | share |`,
  '| --- | ---: | ---: | ---: |',
  ...grown
    .slice(0, top)
    .map(
      (g) =>
        `| ${g.key.replace(/\|/g, '\\|')} | ${(g.count / per).toFixed(per > 1 ? 2 : 0)} | ${Math.round(g.bytes / per)} | ${((100 * g.bytes) / Math.max(1, total)).toFixed(1)} % |`,
    ),
];
process.stdout.write(`${lines.join('\n')}\n`);
