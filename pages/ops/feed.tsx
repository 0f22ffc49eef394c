/** @jsxImportSource preact */
/**
 * The live feed: order status changes, shipment updates and stock changes as the bus delivers
 * them (graphql-ws), newest first, the newest 200 kept.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatTime, useApi } from './hooks.js';

const FEEDS = {
  orders: {
    label: 'Orders',
    query: `subscription OpsOrders { orderStatusChanged { cursor at previousStatus status correlationId order { number channel } } }`,
    line: (e: Record<string, unknown>) => {
      const v = e['orderStatusChanged'] as {
        at: string;
        previousStatus: string | null;
        status: string;
        order: { number: string; channel: string } | null;
      };
      return {
        at: v.at,
        text: `${v.order?.number ?? 'order'} ${v.previousStatus ?? '—'} → ${v.status}${v.order ? ` (${v.order.channel})` : ''}`,
      };
    },
  },
  shipments: {
    label: 'Shipments',
    query: `subscription OpsShipments { shipmentUpdated { cursor kind status occurredAt carrier trackingNumber warehouse { code } order { number } } }`,
    line: (e: Record<string, unknown>) => {
      const v = e['shipmentUpdated'] as {
        kind: string;
        status: string;
        occurredAt: string;
        carrier: string | null;
        trackingNumber: string | null;
        warehouse: { code: string };
        order: { number: string } | null;
      };
      return {
        at: v.occurredAt,
        text: `${v.order?.number ?? 'shipment'} ${v.kind} at ${v.warehouse.code}${v.trackingNumber ? `, ${v.carrier ?? ''} ${v.trackingNumber}` : ''}`,
      };
    },
  },
  stock: {
    label: 'Stock',
    query: `subscription OpsStock { inventoryChanged { cursor sku warehouse { code } onHand available delta reason occurredAt } }`,
    line: (e: Record<string, unknown>) => {
      const v = e['inventoryChanged'] as {
        sku: string;
        warehouse: { code: string };
        available: number;
        delta: number | null;
        reason: string | null;
        occurredAt: string;
      };
      return {
        at: v.occurredAt,
        text: `${v.sku} at ${v.warehouse.code}: ${v.delta !== null ? `${v.delta > 0 ? '+' : ''}${v.delta}, ` : ''}${v.available} available${v.reason ? ` (${v.reason})` : ''}`,
      };
    },
  },
} as const;
type Feed = keyof typeof FEEDS;

interface Line {
  readonly id: number;
  readonly feed: Feed;
  readonly at: string;
  readonly text: string;
}

/** How many events the feed keeps. */
const KEEP = 200;

let nextId = 0;

/** The live feed view. */
export function FeedView() {
  const api = useApi();
  const [on, setOn] = useState<Record<Feed, boolean>>({
    orders: true,
    shipments: true,
    stock: true,
  });
  const [lines, setLines] = useState<readonly Line[]>([]);
  const [problems, setProblems] = useState<Partial<Record<Feed, string>>>({});
  useEffect(() => {
    const stops = (Object.keys(FEEDS) as Feed[])
      .filter((feed) => on[feed])
      .map((feed) =>
        api.subscribe<Record<string, unknown>>(
          FEEDS[feed].query,
          {},
          {
            next: (result) => {
              if (result.errors[0]) {
                setProblems((p) => ({ ...p, [feed]: result.errors[0]!.message }));
                return;
              }
              if (!result.data) return;
              const { at, text } = FEEDS[feed].line(result.data);
              setLines((all) => [{ id: nextId++, feed, at, text }, ...all].slice(0, KEEP));
            },
            error: (error) => setProblems((p) => ({ ...p, [feed]: error.message })),
          },
        ),
      );
    return () => stops.forEach((stop) => stop());
  }, [api, on.orders, on.shipments, on.stock]);
  return (
    <section aria-labelledby="feed-title">
      <header class="view-header">
        <h2 id="feed-title">Live events</h2>
        <fieldset class="toggles">
          <legend>Show</legend>
          {(Object.keys(FEEDS) as Feed[]).map((feed) => (
            <label key={feed}>
              <input
                type="checkbox"
                checked={on[feed]}
                onChange={(e) =>
                  setOn((o) => ({ ...o, [feed]: (e.currentTarget as HTMLInputElement).checked }))
                }
              />{' '}
              {FEEDS[feed].label}
            </label>
          ))}
        </fieldset>
        <button type="button" onClick={() => setLines([])}>
          Clear
        </button>
      </header>
      {Object.entries(problems).map(([feed, message]) => (
        <p key={feed} role="alert" class="error">
          {FEEDS[feed as Feed].label}: {message}
        </p>
      ))}
      <p class="muted">
        {lines.length === 0 ? 'Waiting for events…' : `${lines.length} events, newest first`}
      </p>
      <ol class="feed" aria-live="polite" aria-relevant="additions">
        {lines.map((l) => (
          <li key={l.id} data-feed={l.feed}>
            <span class={`badge feed-${l.feed}`}>{FEEDS[l.feed].label}</span>{' '}
            <time dateTime={l.at}>{formatTime(l.at)}</time> {l.text}
          </li>
        ))}
      </ol>
    </section>
  );
}
