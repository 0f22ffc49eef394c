/** @jsxImportSource preact */
/**
 * Exception queues by owner (the order desk, returns, billing, integration): each item with
 * assign, comment and resolve, every action under its own idempotency key.
 */
import { useState } from 'preact/hooks';
import { errorText, newIdempotencyKey } from '../shared/api.js';
import { formatTime, useApi, useQuery } from './hooks.js';

const EXCEPTIONS = `query OpsExceptions($queue: ExceptionQueue, $status: ExceptionStatus) {
  exceptions(queue: $queue, status: $status, first: 100) {
    nodes {
      id queue kind status orderId summary assignee createdAt updatedAt resolvedAt resolution resolvedBy
      comments { author at text }
      order { number status }
    }
  }
}`;

const ITEM = `id status assignee resolution resolvedBy comments { author at text }`;
const ACTIONS = {
  assign: `mutation OpsAssign($id: ID!, $value: String!, $key: String!) {
    assignException(id: $id, assignee: $value, idempotencyKey: $key) { exception { ${ITEM} } userErrors { code message } }
  }`,
  comment: `mutation OpsComment($id: ID!, $value: String!, $key: String!) {
    commentOnException(id: $id, text: $value, idempotencyKey: $key) { exception { ${ITEM} } userErrors { code message } }
  }`,
  resolve: `mutation OpsResolve($id: ID!, $value: String!, $key: String!) {
    resolveException(id: $id, resolution: $value, idempotencyKey: $key) { exception { ${ITEM} } userErrors { code message } }
  }`,
} as const;
type Action = keyof typeof ACTIONS;
const FIELD: Record<Action, string> = {
  assign: 'assignException',
  comment: 'commentOnException',
  resolve: 'resolveException',
};

interface Item {
  readonly id: string;
  readonly queue: string;
  readonly kind: string;
  readonly status: string;
  readonly orderId: string | null;
  readonly summary: string;
  readonly assignee: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly resolvedAt: string | null;
  readonly resolution: string | null;
  readonly resolvedBy: string | null;
  readonly comments: readonly { author: string; at: string; text: string }[];
  readonly order: { number: string; status: string } | null;
}

const QUEUES = [
  { value: 'ORDERS', label: 'Order desk' },
  { value: 'RETURNS', label: 'Returns desk' },
  { value: 'INVOICES', label: 'Billing' },
  { value: 'WEBHOOKS', label: 'Integration team' },
] as const;

/** The exception queues view. */
export function ExceptionsView(props: { onOpenOrder(id: string): void }) {
  const [queue, setQueue] = useState<string>('ORDERS');
  const [status, setStatus] = useState<string>('');
  const items = useQuery<{ exceptions: { nodes: Item[] } }>(
    EXCEPTIONS,
    { ...(queue ? { queue } : {}), ...(status ? { status } : {}) },
    10_000,
  );
  const nodes = items.data?.exceptions.nodes ?? [];
  return (
    <section aria-labelledby="exceptions-title">
      <header class="view-header">
        <h2 id="exceptions-title">Exception queues</h2>
        <div role="group" aria-label="Queue" class="segmented">
          {QUEUES.map((q) => (
            <button
              key={q.value}
              type="button"
              aria-pressed={queue === q.value}
              onClick={() => setQueue(q.value)}
            >
              {q.label}
            </button>
          ))}
        </div>
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            <option value="OPEN">OPEN</option>
            <option value="ASSIGNED">ASSIGNED</option>
            <option value="RESOLVED">RESOLVED</option>
          </select>
        </label>
      </header>
      {items.error && (
        <p role="alert" class="error">
          {items.error}
        </p>
      )}
      <p aria-live="polite" class="muted">
        {items.loading ? 'Loading…' : `${nodes.length} item${nodes.length === 1 ? '' : 's'}`}
      </p>
      <ol class="items">
        {nodes.map((item) => (
          <ExceptionCard
            key={item.id}
            item={item}
            onChanged={() => void items.reload()}
            onOpenOrder={props.onOpenOrder}
          />
        ))}
      </ol>
    </section>
  );
}

function ExceptionCard(props: { item: Item; onChanged(): void; onOpenOrder(id: string): void }) {
  const api = useApi();
  const { item } = props;
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (action: Action, form: HTMLFormElement) => {
    const input = form.elements.namedItem('value') as HTMLInputElement | HTMLTextAreaElement;
    const value = input.value.trim();
    if (!value) {
      setMessage('Write something first.');
      input.focus();
      return;
    }
    setBusy(true);
    const result = await api.request<
      Record<string, { userErrors: { code: string; message: string }[] }>
    >(ACTIONS[action], { id: item.id, value, key: newIdempotencyKey(`${action}-${item.id}`) });
    setBusy(false);
    const userError = result.data?.[FIELD[action]]?.userErrors[0];
    const error =
      errorText(result.errors) ?? (userError ? `${userError.code}: ${userError.message}` : null);
    setMessage(
      error ??
        `${action === 'assign' ? 'Assigned' : action === 'comment' ? 'Commented' : 'Resolved'}.`,
    );
    if (!error) {
      input.value = '';
      props.onChanged();
    }
  };
  const form = (action: Action, label: string, multiline = false) => (
    <form
      class="action"
      onSubmit={(e) => {
        e.preventDefault();
        void act(action, e.currentTarget as HTMLFormElement);
      }}
    >
      <label>
        {label}
        {multiline ? (
          <textarea name="value" rows={2} maxLength={2000} disabled={busy} />
        ) : (
          <input
            name="value"
            type="text"
            maxLength={action === 'assign' ? 100 : 500}
            disabled={busy}
          />
        )}
      </label>
      <button type="submit" disabled={busy}>
        {action === 'assign' ? 'Assign' : action === 'comment' ? 'Comment' : 'Resolve'}
      </button>
    </form>
  );
  return (
    <li
      class="card"
      data-exception={item.id}
      data-order-id={item.orderId ?? ''}
      aria-labelledby={`${item.id}-title`}
    >
      <h3 id={`${item.id}-title`}>
        <span class={`badge ex-${item.status}`}>{item.status}</span> {item.kind}{' '}
        <span class="muted">{item.id}</span>
      </h3>
      <p>{item.summary}</p>
      <dl class="facts">
        <dt>Order</dt>
        <dd>
          {item.orderId ? (
            <button type="button" class="link" onClick={() => props.onOpenOrder(item.orderId!)}>
              {item.order?.number ?? item.orderId}
            </button>
          ) : (
            '—'
          )}
          {item.order && <span class="muted"> {item.order.status}</span>}
        </dd>
        <dt>Assignee</dt>
        <dd>{item.assignee ?? '—'}</dd>
        <dt>Opened</dt>
        <dd>{formatTime(item.createdAt)}</dd>
        {item.resolvedAt && (
          <>
            <dt>Resolved</dt>
            <dd>
              {formatTime(item.resolvedAt)} by {item.resolvedBy}: {item.resolution}
            </dd>
          </>
        )}
      </dl>
      {item.comments.length > 0 && (
        <ul class="comments" aria-label="Comments">
          {item.comments.map((c, i) => (
            <li key={i}>
              <span class="muted">
                {c.author}, {formatTime(c.at)}:
              </span>{' '}
              {c.text}
            </li>
          ))}
        </ul>
      )}
      {item.status !== 'RESOLVED' && (
        <div class="actions">
          {form('assign', 'Assign to')}
          {form('comment', 'Comment', true)}
          {form('resolve', 'Resolution')}
        </div>
      )}
      {message && (
        <p role="status" class="outcome">
          {message}
        </p>
      )}
    </li>
  );
}
