/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--window FROM_US TO_US]`: what a V8
 * CPU profile (written by `node --cpu-prof`) spent its time on, as Markdown: the top functions by
 * self time, self time by package (or Crossdock file), time with each package or Crossdock file
 * anywhere on the stack (inclusive, counted once per sample), and Crossdock's own functions by
 * inclusive time. Percentages are of the busy time: every sample except `(idle)`. `--window`
 * keeps the samples between two CLOCK_MONOTONIC instants in µs (V8's profile clock, the same as
 * `process.hrtime`), e.g. the load window bench/profile-trivial.ts prints, so start-up is left out.
 *
 * Given a `.heapprofile` (V8's sampling heap profiler, as `BENCH_ALLOC=1 tsx
 * bench/profile-trivial.ts` writes it: every sampled allocation, also those collected since), the
 * same tables in bytes allocated: who makes the garbage the collector's share is spent on.
 */
import { readFileSync } from 'node:fs';

/** A frame of either profile. */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

/** The parts of a .cpuprofile this script reads (V8's Profiler.Profile). */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: CallFrame;
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  /** µs between a sample and the one before it (the first: since startTime). */
  readonly timeDeltas: readonly number[];
  /** CLOCK_MONOTONIC µs of the profile's start. */
  readonly startTime: number;
}

/** The parts of a .heapprofile this script reads (V8's HeapProfiler.SamplingHeapProfile). */
interface HeapProfile {
  readonly head: HeapNode;
  readonly samples: readonly { readonly size: number; readonly nodeId: number }[];
}
interface HeapNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children: readonly HeapNode[];
}

/** A profile as weighted stacks: each sample's leaf and what it weighs (µs or bytes). */
interface Weighted {
  readonly frames: Map<number, CallFrame>;
  readonly parent: Map<number, number>;
  readonly samples: readonly (readonly [id: number, weight: number])[];
  /** Weight of `(idle)` samples (CPU only). */
  readonly idle: number;
}

function cpuWeights(profile: CpuProfile, from: number, to: number): Weighted {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples: [number, number][] = [];
  let at = profile.startTime;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < from || at > to) return;
    if (frames.get(id)?.functionName === '(idle)') idle += us;
    else samples.push([id, us]);
  });
  return { frames, parent, samples, idle };
}

function heapWeights(profile: HeapProfile): Weighted {
  const frames = new Map<number, CallFrame>();
  const parent = new Map<number, number>();
  const visit = (node: HeapNode) => {
    frames.set(node.id, node.callFrame);
    for (const child of node.children) {
      parent.set(child.id, node.id);
      visit(child);
    }
  };
  visit(profile.head);
  return { frames, parent, samples: profile.samples.map((s) => [s.nodeId, s.size]), idle: 0 };
}

/** Where a frame's code comes from: an npm package, a Crossdock file, Node itself or V8. */
function originOf(url: string, functionName: string): string {
  if (url === '') {
    // V8's pseudo-frames: (program), (garbage collector), (idle), (root).
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first = '', second = ''] = url.slice(modules + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (url.startsWith('node:')) return 'node (internal)';
  const match =
    /\/(server|resolvers|sources|observability|workflows|store|schema|subscriptions|sandbox|generated)\/(.+)$/.exec(
      url,
    );
  return match ? `crossdock ${match[1]}/${match[2]}` : url;
}

function main(): void {
  const file = process.argv[2];
  if (!file)
    throw new Error(
      'usage: tsx bench/profile-summary.ts <file.cpuprofile | file.heapprofile> [--top N]',
    );
  const topAt = process.argv.indexOf('--top');
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  const windowAt = process.argv.indexOf('--window');
  const from = windowAt > 0 ? Number(process.argv[windowAt + 1]) : -Infinity;
  const to = windowAt > 0 ? Number(process.argv[windowAt + 2]) : Infinity;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | HeapProfile;
  const heap = 'head' in parsed;
  const { frames, parent, samples, idle } = heap
    ? heapWeights(parsed)
    : cpuWeights(parsed, from, to);

  const self = new Map<string, number>();
  const selfByOrigin = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  let busy = 0;
  const add = (m: Map<string, number>, k: string, w: number) => m.set(k, (m.get(k) ?? 0) + w);

  for (const [id, w] of samples) {
    const frame = frames.get(id);
    if (!frame) continue;
    const { functionName, url, lineNumber } = frame;
    busy += w;
    const origin = originOf(url, functionName);
    add(self, `${functionName || '(anonymous)'} · ${origin}:${lineNumber + 1}`, w);
    add(selfByOrigin, origin, w);
    // Inclusive: every origin on this sample's stack, once.
    const seen = new Set<string>();
    const own = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = frames.get(n);
      if (!f || f.functionName === '(root)') continue;
      const o = originOf(f.url, f.functionName);
      seen.add(o);
      if (o.startsWith('crossdock ')) own.add(`${f.functionName || '(anonymous)'} · ${o}`);
    }
    for (const o of seen) add(inclusive, o, w);
    for (const f of own) add(ownInclusive, f, w);
  }

  const pct = (w: number) => `${((100 * w) / busy).toFixed(1)} %`;
  const unit = heap ? 'MB' : 'ms';
  const amount = (w: number) => (heap ? (w / 1e6).toFixed(1) : (w / 1000).toFixed(0));
  const of = heap ? 'share of allocated' : 'share of busy';
  const table = (title: string, head: string, m: Map<string, number>, n: number) => [
    `### ${title}`,
    '',
    `| ${head} | ${unit} | ${of} |`,
    '| --- | --- | --- |',
    ...[...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, w]) => `| ${k.replaceAll('|', '\\|')} | ${amount(w)} | ${pct(w)} |`),
    '',
  ];
  const what = heap ? 'bytes' : 'time';
  const out = [
    heap
      ? `Heap profile ${file}: ${amount(busy)} MB allocated in ${samples.length} samples.`
      : `Profile ${file}${windowAt > 0 ? ` (window ${from}–${to} µs)` : ''}: ${amount(busy)} ms busy, ${amount(idle)} ms idle.`,
    '',
    ...table(`Top ${top} functions by self ${what}`, 'function · origin:line', self, top),
    ...table(`Self ${what} by origin`, 'origin', selfByOrigin, top),
    ...table(`Inclusive ${what} by origin (on the stack)`, 'origin', inclusive, top),
    ...table(
      `Crossdock's own functions by inclusive ${what}`,
      'function · file',
      ownInclusive,
      top,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
