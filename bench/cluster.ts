/**
 * `tsx bench/cluster.ts`: server/main.ts in CLUSTER_WORKERS (default 2) worker processes on one
 * port, through node:cluster: the primary accepts each connection and hands it to the workers in
 * turn (round-robin, Node's default on Linux), then takes no part in the requests. Each worker
 * is a whole Crossdock with the environment this process was given. Prints
 * `cluster listening: workers <pid>,<pid>` once every worker listens; SIGTERM or SIGINT stops
 * the workers (each shuts down as server/main.ts does), then the primary.
 */
import cluster, { type Worker } from 'node:cluster';

if (cluster.isPrimary) {
  const count = Number(process.env['CLUSTER_WORKERS'] ?? 2);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(
      `CLUSTER_WORKERS: expected an integer >= 1, got ${process.env['CLUSTER_WORKERS']}`,
    );
  }
  const workers: Worker[] = [];
  const listening = new Set<number>();
  cluster.on('listening', (worker) => {
    // A worker listens once for its HTTP server: the port every request comes in on.
    listening.add(worker.id);
    if (listening.size === count) {
      process.stdout.write(
        `cluster listening: workers ${workers.map((w) => w.process.pid).join(',')}\n`,
      );
    }
  });
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      process.stderr.write(`cluster: worker ${worker.process.pid} exited with ${code}\n`);
      process.exit(1);
    }
    if (workers.every((w) => w.isDead())) process.exit(0);
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of workers) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < count; i++) workers.push(cluster.fork());
} else {
  await import('../server/main.js');
}
