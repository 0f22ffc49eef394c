/**
 * Preloaded (`node --import`) into the Crossdock child of `BENCH_ALLOC=1 tsx
 * bench/profile-trivial.ts`: V8's sampling heap profiler, counting every sampled allocation,
 * also those the garbage collector has freed since (the garbage a CPU profile's GC share is spent
 * on; `node --heap-prof` keeps only what is still alive). Sampling starts on SIGUSR2 (the start of
 * the load window) and the profile is written to BENCH_ALLOC_PROFILE when the process exits
 * (a same-thread inspector session answers synchronously, so an exit handler can write it).
 * `tsx bench/profile-summary.ts <file.heapprofile>` summarises it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const path = process.env['BENCH_ALLOC_PROFILE'];
if (!path) throw new Error('BENCH_ALLOC_PROFILE (where to write the .heapprofile) is not set');

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (sampling) return;
  sampling = true;
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});
process.on('exit', () => {
  if (!sampling) return;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) process.stderr.write(`heap sampling failed: ${error.message}\n`);
    else writeFileSync(path, JSON.stringify(result.profile));
  });
});
