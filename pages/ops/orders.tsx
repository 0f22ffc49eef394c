/** @jsxImportSource preact */
/**
 * An order's story, found by order number, order ID, the channel's external reference or a
 * correlation ID: its timeline with each step's latency, and the system calls made under its
 * correlation IDs (Query.trace) with the failing ones marked.
 */
import { useEffect, useState } from 'preact/hooks';
import { errorText, type Api } from '../shared/api.js';
import { formatMs, formatTime, useApi } from './hooks.js';

const ORDER_FIELDS = `id number status channel externalReference orderedAt
  total { amount currencyCode }
  customer { number name }
  lines { sequence sku quantity shippedQuantity }
  shipments { id status carrier trackingNumber warehouse { code } }
  timeline { at status step source detail sincePreviousMs latencyMs correlationId caller }`;

const BY_ID = `query OpsOrder($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
const BY_REFERENCE = `query OpsOrderByReference($reference: String!) {
  orders(first: 10, filter: { externalReference: $reference }) { nodes { ${ORDER_FIELDS} } }
}`;
const TRACE = `query OpsTrace($id: String!) {
  trace(correlationId: $id) { correlationId orderIds entries { at kind name outcome durationMs orderId detail } }
}`;

interface TimelineEntry {
  readonly at: string;
  readonly status: string;
  readonly step: string;
  readonly source: string;
  readonly detail: string | null;
  readonly sincePreviousMs: number | null;
  readonly latencyMs: number | null;
  readonly correlationId: string | null;
  readonly caller: string | null;
}
interface Order {
  readonly id: string;
  readonly number: string;
  readonly status: string;
  readonly channel: string;
  readonly externalReference: string | null;
  readonly orderedAt: string;
  readonly total: { amount: string; currencyCode: string };
  readonly customer: { number: string; name: string } | null;
  readonly lines: readonly {
    sequence: number;
    sku: string;
    quantity: number;
    shippedQuantity: number;
  }[];
  readonly shipments:
    | readonly ({
        id: string;
        status: string;
        carrier: string | null;
        trackingNumber: string | null;
        warehouse: { code: string };
      } | null)[]
    | null;
  readonly timeline: readonly TimelineEntry[];
}
interface TraceEntry {
  readonly at: string;
  readonly kind: string;
  readonly name: string;
  readonly outcome: string;
  readonly durationMs: number | null;
  readonly orderId: string | null;
  readonly detail: string | null;
}
interface Trace {
  readonly correlationId: string;
  readonly orderIds: readonly string[];
  readonly entries: readonly TraceEntry[];
}

/** The longest channel reference (OrderFilter.externalReference). */
const MAX_REFERENCE_CHARS = 35;

/** What a search found and how. */
interface Found {
  readonly how: string;
  readonly orders: readonly Order[];
}

/** Looks `text` up as an order id or number, an external reference, then a correlation ID. */
async function find(api: Api, text: string): Promise<Found | string> {
  const byId = await api.request<{ order: Order | null }>(BY_ID, { id: text });
  if (byId.data?.order) return { how: 'order number or ID', orders: [byId.data.order] };
  // A channel reference is at most 35 characters (Business Central's field): a longer text (a
  // correlation ID is 36) is not asked for as one, so its refusal does not hide the real answer.
  const byReference =
    text.length <= MAX_REFERENCE_CHARS
      ? await api.request<{ orders: { nodes: Order[] } }>(BY_REFERENCE, { reference: text })
      : { data: null, errors: [] };
  const referenced = byReference.data?.orders.nodes ?? [];
  if (referenced.length > 0) return { how: 'external reference', orders: referenced };
  const trace = await api.request<{ trace: Trace }>(TRACE, { id: text });
  const ids = trace.data?.trace.orderIds ?? [];
  if (ids.length > 0) {
    const orders = await Promise.all(
      ids
        .slice(0, 10)
        .map(
          async (id) =>
            (await api.request<{ order: Order | null }>(BY_ID, { id })).data?.order ?? null,
        ),
    );
    return { how: 'correlation ID', orders: orders.filter((o): o is Order => o !== null) };
  }
  // Say why nothing was found when a lookup was refused, not only that it found nothing.
  const refused = [byReference, trace]
    .map((r) => r.errors.find((e) => e.extensions?.code !== 'NOT_FOUND'))
    .find((e) => e !== undefined);
  return refused
    ? `Nothing found for “${text}” (${errorText([refused])})`
    : `No order has the number, ID, external reference or correlation ID “${text}”.`;
}

/** A system call failed when its outcome is neither ok nor a 2xx status. */
function failed(entry: TraceEntry): boolean {
  return !(
    entry.outcome === 'ok' ||
    /^2\d\d\b/.test(entry.outcome) ||
    entry.outcome === 'SUCCEEDED'
  );
}

/** The order lookup view; `initial` searches at once (a link from another view). */
export function OrdersView(props: { initial: string | null }) {
  const api = useApi();
  const [text, setText] = useState(props.initial ?? '');
  const [found, setFound] = useState<Found | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const search = async (query: string) => {
    const q = query.trim();
    if (!q) return;
    setBusy(true);
    setMessage(null);
    const result = await find(api, q);
    setBusy(false);
    if (typeof result === 'string') {
      setFound(null);
      setMessage(result);
    } else {
      setFound(result);
      setMessage(
        `Found ${result.orders.length} order${result.orders.length === 1 ? '' : 's'} by ${result.how}.`,
      );
    }
  };
  useEffect(() => {
    if (props.initial) {
      setText(props.initial);
      void search(props.initial);
    }
    // A new link from another view searches again.
  }, [props.initial]);
  return (
    <section aria-labelledby="orders-title">
      <header class="view-header">
        <h2 id="orders-title">Find an order</h2>
      </header>
      <form
        role="search"
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search(text);
        }}
      >
        <label>
          Order number, order ID, external reference or correlation ID
          <input
            name="q"
            type="search"
            value={text}
            maxLength={200}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Searching…' : 'Find'}
        </button>
      </form>
      <p role="status" class="notice">
        {message ?? ''}
      </p>
      {found?.orders.map((order) => (
        <OrderStory key={order.id} order={order} />
      ))}
    </section>
  );
}

function OrderStory(props: { order: Order }) {
  const api = useApi();
  const { order } = props;
  const [traces, setTraces] = useState<readonly Trace[]>([]);
  const correlationIds = [
    ...new Set(order.timeline.map((t) => t.correlationId).filter((c): c is string => !!c)),
  ].slice(0, 10);
  const key = correlationIds.join(',');
  useEffect(() => {
    let current = true;
    void Promise.all(
      correlationIds.map(
        async (id) => (await api.request<{ trace: Trace }>(TRACE, { id })).data?.trace ?? null,
      ),
    ).then((all) => {
      if (current) setTraces(all.filter((t): t is Trace => t !== null));
    });
    return () => {
      current = false;
    };
  }, [api, key]);
  const calls = traces
    .flatMap((t) =>
      t.entries
        .filter((e) => e.kind === 'SYSTEM_CALL')
        .map((e) => ({ ...e, correlationId: t.correlationId })),
    )
    .sort((a, b) => a.at.localeCompare(b.at));
  const failures = calls.filter(failed);
  return (
    <article class="order" data-order={order.number} aria-labelledby={`order-${order.number}`}>
      <h3 id={`order-${order.number}`}>
        Order {order.number} <span class={`badge order-${order.status}`}>{order.status}</span>
      </h3>
      <dl class="facts">
        <dt>Channel</dt>
        <dd>{order.channel}</dd>
        <dt>External reference</dt>
        <dd>{order.externalReference ?? '—'}</dd>
        <dt>Customer</dt>
        <dd>{order.customer ? `${order.customer.name} (${order.customer.number})` : '—'}</dd>
        <dt>Ordered</dt>
        <dd>{formatTime(order.orderedAt)}</dd>
        <dt>Total</dt>
        <dd>
          {order.total.amount} {order.total.currencyCode}
        </dd>
        <dt>Lines</dt>
        <dd>
          {order.lines
            .map((l) => `${l.quantity} × ${l.sku} (${l.shippedQuantity} shipped)`)
            .join(', ')}
        </dd>
        <dt>Shipments</dt>
        <dd>
          {(order.shipments ?? []).filter((s) => s !== null).length === 0
            ? '—'
            : (order.shipments ?? [])
                .map((s) =>
                  s
                    ? `${s.warehouse.code} ${s.status}${s.trackingNumber ? ` ${s.carrier ?? ''} ${s.trackingNumber}` : ''}`
                    : 'unavailable',
                )
                .join('; ')}
        </dd>
      </dl>
      <table class="timeline">
        <caption>Timeline, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Source</th>
            <th scope="col">Took</th>
            <th scope="col">Detail</th>
            <th scope="col">Correlation ID</th>
          </tr>
        </thead>
        <tbody>
          {order.timeline.map((t, i) => (
            <tr key={i}>
              <td>{formatTime(t.at)}</td>
              <th scope="row">
                <code>{t.step}</code>
              </th>
              <td>{t.status}</td>
              <td>{t.source}</td>
              <td>{formatMs(t.latencyMs)}</td>
              <td class="wrap">{t.detail ?? ''}</td>
              <td>
                <code class="small">{t.correlationId ?? '—'}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table class="calls">
        <caption>
          System calls under this order's correlation IDs ({failures.length} failed of{' '}
          {calls.length}; this replica's recent calls)
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Call</th>
            <th scope="col">Outcome</th>
            <th scope="col">Took</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {calls.map((c, i) => (
            <tr
              key={i}
              class={failed(c) ? 'failed' : ''}
              data-failed={failed(c) ? 'true' : 'false'}
            >
              <td>{formatTime(c.at)}</td>
              <th scope="row">
                <code>{c.name}</code>
              </th>
              <td>{failed(c) ? <strong>{c.outcome}</strong> : c.outcome}</td>
              <td>{formatMs(c.durationMs)}</td>
              <td class="wrap">{c.detail ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
