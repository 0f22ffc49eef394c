/**
 * The NATS JetStream implementation of the bus port (subscriptions/bus.ts): one stream per domain,
 * de-duplication by message id, publish awaits the PubAck, subscribers read through ordered
 * (ephemeral) consumers and resume after a cursor `${domain}:${streamSequence}`, exactly like the
 * in-process bus (subscriptions/memory-bus.ts).
 *
 * What the broker must be configured with so that an acknowledged event is never lost:
 * - File storage (set here on every stream): memory storage loses everything on restart.
 * - In production, a JetStream cluster of 3 servers and `replicas: 3`: a PubAck is then sent only
 *   after a quorum (2 of 3) has the message, so losing one server (disk and all) loses nothing.
 * - Sync interval: nats-server writes to the OS page cache and fsyncs every `sync_interval`
 *   (2 minutes by default). A process crash or restart loses nothing (the page cache survives it);
 *   a power loss or kernel panic of a single server can lose up to `sync_interval` of
 *   acknowledged events. With R3 that needs two servers to fail at once; on a single server that
 *   must survive power loss, set `jetstream { sync_interval: always }` (slower publishes).
 * - `max_age` (retention) longer than the longest time a subscriber may be away, else its cursor
 *   expires (CursorExpiredError) and it must start again from new events.
 */
import { connect, headers } from '@nats-io/transport-node';
import {
  CORRELATION_HEADER,
  TRACEPARENT_HEADER,
  correlationOf,
  currentCorrelation,
  traceparentFor,
} from '../observability/correlation.js';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type {
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  StreamConfig,
  StreamInfo,
} from '@nats-io/jetstream';
import {
  CursorExpiredError,
  EVENT_DOMAINS,
  cursorOf,
  sequenceOfCursor,
  type BusEvent,
  type EventBus,
  type EventDomain,
  type EventIterator,
} from './bus.js';

/**
 * Prefix of the stream names (`${prefix}_ORDER`, `_SHIPMENT`, `_INVENTORY`, `_CUSTOMER`).
 * @default 'CROSSDOCK'
 */
export const DEFAULT_NATS_STREAM_PREFIX = 'CROSSDOCK';
/**
 * How long events are kept for resuming subscribers.
 * @default 604_800_000 // 7 days
 */
export const DEFAULT_NATS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How long JetStream remembers an event id to drop a duplicate publish.
 * @default 120_000 // 2 minutes
 */
export const DEFAULT_NATS_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/**
 * Stream replicas.
 * @default 1
 */
export const DEFAULT_NATS_REPLICAS = 1;

/** Options of {@link createNatsBus}. */
export interface NatsBusOptions {
  /** NATS server URL(s), comma-separated, e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string;
  /**
   * Prefix of the stream names; runs that must not share streams (tests) use their own.
   * @default DEFAULT_NATS_STREAM_PREFIX // 'CROSSDOCK'
   */
  readonly streamPrefix?: string;
  /**
   * Retention: events older than this are dropped and their cursors expire.
   * @default DEFAULT_NATS_MAX_AGE_MS // 7 days
   */
  readonly maxAgeMs?: number;
  /**
   * A publish with an event id seen within this window is dropped (acknowledged as duplicate).
   * @default DEFAULT_NATS_DUPLICATE_WINDOW_MS // 2 minutes
   */
  readonly duplicateWindowMs?: number;
  /**
   * Replicas of each stream: 1 on a single server, 3 in a cluster (see the module comment).
   * @default DEFAULT_NATS_REPLICAS // 1
   */
  readonly replicas?: number;
}

/** The domains, each with a stream of its own. */
const DOMAINS = EVENT_DOMAINS;

/** Subject prefix of a domain's events: `crossdock.<domain>.`. */
export const subjectPrefix = (domain: EventDomain): string => `crossdock.${domain}.`;

/** A subscriber's view of publishes made through this bus while it is being set up. */
interface Collector {
  readonly sequences: Promise<number | undefined>[];
}

const NANOS_PER_MS = 1_000_000;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name}: expected a positive integer, got ${String(value)}`);
  return value;
}

/** Makes a NATS JetStream bus: connects, creates or updates the domain streams, then resolves. */
export async function createNatsBus(
  options: NatsBusOptions,
): Promise<EventBus & { close(): Promise<void> }> {
  if (typeof options.servers !== 'string' || options.servers.trim() === '')
    throw new Error(
      `servers: expected a NATS URL such as nats://127.0.0.1:4222, got ${JSON.stringify(options.servers)}`,
    );
  const prefix = options.streamPrefix ?? DEFAULT_NATS_STREAM_PREFIX;
  if (!/^[A-Za-z0-9_-]+$/.test(prefix))
    throw new Error(
      `streamPrefix: expected letters, digits, '_' or '-', got ${JSON.stringify(prefix)}`,
    );
  const maxAgeMs = positiveInteger('maxAgeMs', options.maxAgeMs ?? DEFAULT_NATS_MAX_AGE_MS);
  const duplicateWindowMs = positiveInteger(
    'duplicateWindowMs',
    options.duplicateWindowMs ?? DEFAULT_NATS_DUPLICATE_WINDOW_MS,
  );
  if (duplicateWindowMs > maxAgeMs)
    throw new Error(
      `duplicateWindowMs: expected at most maxAgeMs (${maxAgeMs}), got ${duplicateWindowMs}`,
    );
  const replicas = options.replicas ?? DEFAULT_NATS_REPLICAS;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5)
    throw new Error(`replicas: expected an integer from 1 to 5, got ${String(replicas)}`);

  const streamName = (domain: EventDomain) => `${prefix}_${domain.toUpperCase()}`;
  // On the wire, subjects are namespaced by the stream prefix (`CROSSDOCK.order.status.XD-…` for
  // the event subject `crossdock.order.status.XD-…`), so deployments or test runs with different
  // prefixes can share one NATS server without their streams' subjects overlapping.
  const wireRoot = (domain: EventDomain) => `${prefix}.${domain}.`;
  const wireSubject = (subject: string) => `${prefix}.${subject.slice('crossdock.'.length)}`;
  const nc: NatsConnection = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    // Keep reconnecting: a broker restart must not end the bus (publishes fail until it is back).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    for (const domain of DOMAINS) {
      const config = {
        subjects: [`${wireRoot(domain)}>`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        max_age: maxAgeMs * NANOS_PER_MS,
        duplicate_window: duplicateWindowMs * NANOS_PER_MS,
        num_replicas: replicas,
      } satisfies Partial<StreamConfig>;
      await ensureStream(jsm, streamName(domain), config);
    }
  } catch (error) {
    await nc.close();
    throw error;
  }

  let closed = false;
  const collectors = new Map<EventDomain, Set<Collector>>(DOMAINS.map((d) => [d, new Set()]));
  const live = new Set<{ stop(): void }>();

  return {
    async publish(event) {
      if (closed) throw new Error('event bus is closed');
      const expected = subjectPrefix(event.domain);
      if (!event.subject.startsWith(expected) || event.subject.length === expected.length)
        throw new Error(
          `event ${event.id}: expected a subject under "${expected}>" for domain ${event.domain}, got ${JSON.stringify(event.subject)}`,
        );
      const body: BusEvent = {
        id: event.id,
        domain: event.domain,
        subject: event.subject,
        at: event.at,
        correlationId: event.correlationId,
        payload: event.payload,
      };
      // The correlation travels in the message headers too (issue #11): consumers that are not
      // Crossdock (a data lake, an auditor) follow a transaction without parsing the body.
      const hdrs = headers();
      if (event.correlationId !== null) {
        const current = currentCorrelation();
        hdrs.set(CORRELATION_HEADER, event.correlationId);
        hdrs.set(
          TRACEPARENT_HEADER,
          traceparentFor(
            current?.correlationId === event.correlationId
              ? current
              : correlationOf(event.correlationId),
          ),
        );
      }
      const ack = js.publish(wireSubject(event.subject), JSON.stringify(body), {
        msgID: event.id,
        headers: hdrs,
      });
      const pending = collectors.get(event.domain);
      if (pending && pending.size > 0) {
        // A duplicate's ack carries the original (older) sequence: not a new event to deliver.
        const sequence = ack.then(
          (a) => (a.duplicate ? undefined : a.seq),
          () => undefined,
        );
        for (const collector of pending) collector.sequences.push(sequence);
      }
      await ack;
    },

    subscribe<T>(
      domain: EventDomain,
      subscription: { readonly after?: string; readonly filter?: (event: BusEvent<T>) => boolean },
    ) {
      if (closed) throw new Error('event bus is closed');
      const stream = streamName(domain);
      const after = subscription.after;
      // Without a cursor, "new events" means every event published through this bus after this
      // call: DeliverPolicy.New would miss those published while the consumer is being created
      // (subscribe() returns synchronously, the consumer exists a round trip later), so the start
      // sequence is computed from the stream's last sequence and the publishes seen meanwhile.
      let collector: Collector | null = null;
      if (after === undefined) {
        collector = { sequences: [] };
        collectors.get(domain)?.add(collector);
      }
      let done = false;
      let messages: ConsumerMessages | null = null;
      const handle = {
        stop() {
          done = true;
          if (collector) collectors.get(domain)?.delete(collector);
          messages?.stop();
        },
      };
      live.add(handle);

      const setup = async (): Promise<AsyncIterator<JsMsg> | null> => {
        let info: StreamInfo;
        try {
          info = await jsm.streams.info(stream);
        } finally {
          if (collector) collectors.get(domain)?.delete(collector);
        }
        const { first_seq: first, last_seq: last, messages: count } = info.state;
        let start: number;
        if (after === undefined) {
          const seen = (await Promise.all(collector?.sequences ?? [])).filter(
            (s): s is number => s !== undefined,
          );
          start = Math.min(last + 1, ...seen);
        } else {
          // Same rules and messages as the in-process bus.
          const sequence = sequenceOfCursor(after, domain);
          if (sequence === null) throw new CursorExpiredError(after, count > 0 ? first : 0);
          start = sequence + 1;
          const oldest = count > 0 ? first : last + 1;
          if (start < oldest) throw new CursorExpiredError(after, oldest);
        }
        if (done) return null;
        const consumer = await js.consumers.get(stream, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: start,
        });
        if (done) return null;
        // Pull requests expire every 2 s: after a broker restart the recreated ordered consumer
        // of @nats-io/jetstream 3.4 can be left with a stale count of pending messages and ask
        // for nothing until two heartbeats are missed (~40 s); a short expiry bounds that stall.
        messages = await consumer.consume({ max_messages: 100, expires: 2_000 });
        if (done) {
          messages.stop();
          return null;
        }
        return messages[Symbol.asyncIterator]();
      };
      const ready = setup();
      // Surfaced by the first next(); a subscription never iterated must not crash the process.
      ready.catch(() => undefined);

      const iterator: EventIterator<T> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          const finished = { done: true, value: undefined } as const;
          if (done) return finished;
          let inner: AsyncIterator<JsMsg> | null;
          try {
            inner = await ready;
          } catch (error) {
            handle.stop();
            live.delete(handle);
            throw error;
          }
          for (;;) {
            if (done || !inner) return finished;
            const result = await inner.next();
            if (result.done || done) return finished;
            const msg = result.value;
            const event = {
              ...(msg.json<BusEvent<T>>() satisfies BusEvent<T>),
              cursor: cursorOf(domain, msg.seq),
            };
            if (!subscription.filter || subscription.filter(event))
              return { done: false, value: event };
          }
        },
        async return() {
          handle.stop();
          live.delete(handle);
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    async ping() {
      if (closed || nc.isClosed()) throw new Error('event bus is closed');
      // A round trip to the broker, bounded: while NATS is away the client reconnects forever,
      // and readiness must answer now.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          nc.rtt(),
          new Promise((_resolve, reject) => {
            timer = setTimeout(
              () => reject(new Error(`NATS did not answer within ${PING_TIMEOUT_MS} ms`)),
              PING_TIMEOUT_MS,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const handle of live) handle.stop();
      live.clear();
      if (!nc.isClosed()) await nc.drain();
    },
  };
}

/** How long a readiness ping waits for the broker. */
const PING_TIMEOUT_MS = 1_000;

/** Creates the stream, or updates it to `config` when it exists (idempotent at every start). */
async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  config: Partial<StreamConfig>,
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      await jsm.streams.add({ ...config, name });
      return;
    }
    throw error;
  }
  await jsm.streams.update(name, config);
}
