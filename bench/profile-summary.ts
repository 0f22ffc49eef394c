/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--window FROM_US TO_US]`: what a V8
 * CPU profile (written by `node --cpu-prof`) spent its time on, as Markdown: the top functions by
 * self time, self time by package (or Crossdock file), time with each package or Crossdock file
 * anywhere on the stack (inclusive, counted once per sample), and Crossdock's own functions by
 * inclusive time. Percentages are of the busy time: every sample except `(idle)`. `--window`
 * keeps the samples between two CLOCK_MONOTONIC instants in µs (V8's profile clock, the same as
 * `process.hrtime`), e.g. the load window bench/profile-trivial.ts prints, so start-up is left out.
 */
import { readFileSync } from 'node:fs';

/** The parts of a .cpuprofile this script reads (V8's Profiler.Profile). */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  /** µs between a sample and the one before it (the first: since startTime). */
  readonly timeDeltas: readonly number[];
  /** CLOCK_MONOTONIC µs of the profile's start. */
  readonly startTime: number;
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
  if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N]');
  const topAt = process.argv.indexOf('--top');
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  const windowAt = process.argv.indexOf('--window');
  const from = windowAt > 0 ? Number(process.argv[windowAt + 1]) : -Infinity;
  const to = windowAt > 0 ? Number(process.argv[windowAt + 2]) : Infinity;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const selfByOrigin = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  let busy = 0;
  let at = profile.startTime;
  let idle = 0;
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);

  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < from || at > to) return;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      return;
    }
    busy += us;
    const origin = originOf(url, functionName);
    add(self, `${functionName || '(anonymous)'} · ${origin}:${lineNumber + 1}`, us);
    add(selfByOrigin, origin, us);
    // Inclusive: every origin on this sample's stack, once.
    const seen = new Set<string>();
    const own = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const o = originOf(frame.url, frame.functionName);
      seen.add(o);
      if (o.startsWith('crossdock ')) own.add(`${frame.functionName || '(anonymous)'} · ${o}`);
    }
    for (const o of seen) add(inclusive, o, us);
    for (const f of own) add(ownInclusive, f, us);
  });

  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)} %`;
  const ms = (us: number) => (us / 1000).toFixed(0);
  const table = (title: string, head: string, m: Map<string, number>, n: number) => [
    `### ${title}`,
    '',
    `| ${head} | ms | share of busy |`,
    '| --- | --- | --- |',
    ...[...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `| ${k.replaceAll('|', '\\|')} | ${ms(us)} | ${pct(us)} |`),
    '',
  ];
  const out = [
    `Profile ${file}${windowAt > 0 ? ` (window ${from}–${to} µs)` : ''}: ${ms(busy)} ms busy, ${ms(idle)} ms idle.`,
    '',
    ...table(`Top ${top} functions by self time`, 'function · origin:line', self, top),
    ...table('Self time by origin', 'origin', selfByOrigin, top),
    ...table('Inclusive time by origin (on the stack)', 'origin', inclusive, top),
    ...table("Crossdock's own functions by inclusive time", 'function · file', ownInclusive, top),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
