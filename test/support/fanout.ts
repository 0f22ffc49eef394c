/**
 * Awaiting the subscription fan-out instead of polling it: resolves when a condition on its stats
 * holds, re-checked on each of its events (a subscriber started, handed over or ended), with an
 * expiring wait that says what the stats were when it gave up.
 */
import type { Fanout, FanoutStats } from '../../subscriptions/fanout.js';

/** Resolves once `condition(stats())` holds; rejects after `timeoutMs` naming `what`. */
export function fanoutReaches(
  fanout: Pick<Fanout, 'stats' | 'events'>,
  what: string,
  condition: (stats: FanoutStats) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  if (condition(fanout.stats())) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!condition(fanout.stats())) return;
      stop();
      resolve();
    };
    const timer = setTimeout(() => {
      stop();
      reject(
        new Error(`${what}: not reached in ${timeoutMs} ms; ${JSON.stringify(fanout.stats())}`),
      );
    }, timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      fanout.events.off('started', check);
      fanout.events.off('handover', check);
      fanout.events.off('ended', check);
    };
    fanout.events.on('started', check);
    fanout.events.on('handover', check);
    fanout.events.on('ended', check);
  });
}
