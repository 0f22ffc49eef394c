/**
 * Exception queues by business owner (issue #11, item 7): what a person must look at, fed by the
 * workflows — dead letters (the letter's step decides the queue), orders the ERP rejected or that
 * are held, and system events that matched no order — and worked by operators: assign, comment,
 * resolve, each under the idempotency guard and recorded in the order's ledger when the item
 * names an order (`exception:assign`, `exception:comment`, `exception:resolve`).
 *
 * Feeding is idempotent on the item's source key (`deadLetter:<id>`, `order:<id>:<kind>`,
 * `event:<id>`), so a letter retried and failing again, an event delivered twice, or a crashed
 * feeder running again never makes a second item.
 */
import { createHash } from 'node:crypto';
import type { SourceEvent } from '../sources/contract.js';
import type {
  DeadLetter,
  ExceptionChange,
  ExceptionItem,
  ExceptionQueue,
  Store,
  StoredOrder,
} from '../store/contract.js';
import { newExceptionId } from '../store/ids.js';
import type { IdempotencyGuard } from './idempotency.js';
import type { WorkflowCaller } from './order-types.js';
import type { StepRunner } from './steps.js';
import { clip, type UserError } from './user-errors.js';

/** What kind of exception an item is (the GraphQL `ExceptionKind` enum). */
export const EXCEPTION_KINDS = [
  'DEAD_LETTER',
  'ORDER_REJECTED',
  'ORDER_HELD',
  'UNMATCHED_EVENT',
] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

/**
 * The queue of a dead letter's step: returns to the returns desk, invoices to billing, the
 * systems' events to the integration team, every other order step to the order desk.
 */
export function queueOfStep(step: string): ExceptionQueue {
  if (/^return(:|$)/.test(step) || step.startsWith('event:return')) return 'RETURNS';
  if (/^invoice(:|$)/.test(step) || step === 'event:invoicePosted') return 'INVOICES';
  if (step.startsWith('event:') || step.startsWith('webhook')) return 'WEBHOOKS';
  return 'ORDERS';
}

/**
 * The queue of a system event that matched no order: a shipment of an order nobody knows goes
 * to the order desk, an invoice to billing, a storefront order's change to the integration team
 * (the storefront has an order Crossdock never placed).
 */
export function queueOfEvent(event: SourceEvent): ExceptionQueue {
  switch (event.type) {
    case 'shipment':
      return 'ORDERS';
    case 'invoicePosted':
      return 'INVOICES';
    case 'channelOrder':
    case 'stock':
    case 'creditStatus':
      return 'WEBHOOKS';
    default: {
      const unreachable: never = event;
      throw new Error(`unknown source event ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Opens (or finds) the item of dead letter `letter`. */
export async function feedDeadLetter(
  store: Store,
  letter: DeadLetter,
  now: number,
): Promise<ExceptionItem> {
  const { item } = await store.exceptions.open({
    id: newExceptionId(),
    sourceKey: `deadLetter:${letter.id}`,
    queue: queueOfStep(letter.step),
    kind: 'DEAD_LETTER',
    orderId: letter.orderId,
    summary: clip(`${letter.step} failed: ${letter.lastError}`),
    detail: { deadLetter: letter.id, step: letter.step },
    createdAt: now,
  });
  return item;
}

/**
 * Resolves the item of a dead letter whose retry succeeded (opening it first if it was never
 * fed), so the queue does not keep what the retrier already fixed.
 */
export async function resolveDeadLetterItem(
  store: Store,
  letter: DeadLetter,
  now: number,
): Promise<void> {
  const item = await feedDeadLetter(store, letter, now);
  if (item.status !== 'RESOLVED') {
    await store.exceptions.resolve(item.id, 'the automatic retry succeeded', 'system', now);
  }
}

/** Opens (or finds) the item of an order the ERP rejected or that is held. */
export async function feedOrder(
  store: Store,
  order: StoredOrder,
  kind: 'ORDER_REJECTED' | 'ORDER_HELD',
  why: string,
  now: number,
): Promise<ExceptionItem> {
  const { item } = await store.exceptions.open({
    id: newExceptionId(),
    sourceKey: `order:${order.id}:${kind}`,
    queue: 'ORDERS',
    kind,
    orderId: order.id,
    summary: clip(why),
    detail: { status: order.status, channel: order.channel, customer: order.customerNumber },
    createdAt: now,
  });
  return item;
}

/** Opens (or finds) the item of a system event that matched no order. */
export async function feedUnmatchedEvent(
  store: Store,
  event: SourceEvent,
  summary: string,
  detail: Readonly<Record<string, unknown>>,
  now: number,
): Promise<ExceptionItem> {
  const { item } = await store.exceptions.open({
    id: newExceptionId(),
    sourceKey: `event:${event.id}`,
    queue: queueOfEvent(event),
    kind: 'UNMATCHED_EVENT',
    orderId: null,
    summary: clip(summary),
    detail: { event: event.id, type: event.type, source: event.source, ...detail },
    createdAt: now,
  });
  return item;
}

/** What an action on an item answers (recorded for idempotent replay; JSON only). */
export interface ExceptionOutcome {
  /** The item asked for. */
  readonly id: string;
  /** The item after the action (null when unknown): a replay shows the same. */
  readonly item: ExceptionItem | null;
  readonly userErrors: readonly UserError[];
}

/** Acting on exception items. */
export interface ExceptionWorkflows {
  assign(
    id: string,
    assignee: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: ExceptionOutcome; replayed: boolean }>;
  comment(
    id: string,
    text: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: ExceptionOutcome; replayed: boolean }>;
  resolve(
    id: string,
    resolution: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: ExceptionOutcome; replayed: boolean }>;
}

/** What {@link createExceptionWorkflows} needs. */
export interface ExceptionWorkflowDeps {
  readonly store: Store;
  readonly guard: IdempotencyGuard;
  readonly steps: StepRunner;
  readonly now: () => number;
}

/** Makes the exception workflows. */
export function createExceptionWorkflows(deps: ExceptionWorkflowDeps): ExceptionWorkflows {
  const { store, guard, steps, now } = deps;

  /**
   * Runs one action under the guard: the store's change, then (when it changed the item and the
   * item names an order) the ledger step; unknown and resolved items are userErrors.
   */
  const act = async (
    operation: 'assignException' | 'commentOnException' | 'resolveException',
    input: Readonly<Record<string, string>> & { readonly id: string },
    key: string,
    caller: WorkflowCaller,
    change: () => Promise<ExceptionChange>,
    step: string,
    detail: Readonly<Record<string, unknown>>,
  ) => {
    const guarded = await guard.run(
      { scope: caller.id, key, operation, input },
      async (): Promise<ExceptionOutcome> => {
        const { id } = input;
        const changed = await change();
        switch (changed.kind) {
          case 'not_found':
            return {
              id,
              item: null,
              userErrors: [
                {
                  code: 'EXCEPTION_NOT_FOUND',
                  field: ['id'],
                  message: `No exception item with id ${id}`,
                },
              ],
            };
          case 'resolved':
            return {
              id,
              item: changed.item,
              userErrors: [
                {
                  code: 'EXCEPTION_RESOLVED',
                  field: ['id'],
                  message: `Exception item ${id} is already resolved`,
                },
              ],
            };
          case 'ok':
            if (changed.item.orderId !== null) {
              await steps.record(changed.item.orderId, caller, {
                step,
                outcome: 'SUCCEEDED',
                detail: { exception: id, queue: changed.item.queue, ...detail },
              });
            }
            return { id, item: changed.item, userErrors: [] };
          default: {
            const unreachable: never = changed;
            throw new Error(`unknown exception change ${JSON.stringify(unreachable)}`);
          }
        }
      },
    );
    return { outcome: guarded.result, replayed: guarded.replayed };
  };

  return {
    assign: (id, assignee, key, caller) =>
      act(
        'assignException',
        { id, assignee },
        key,
        caller,
        () => store.exceptions.assign(id, assignee, now()),
        'exception:assign',
        { assignee },
      ),
    comment: (id, text, key, caller) => {
      // The comment's id comes from the caller and the key: a run that takes over a crashed
      // one adds the same comment, which the store keeps once.
      const commentId = createHash('sha256')
        .update(caller.id)
        .update('\u0000')
        .update(key)
        .digest('hex')
        .slice(0, 24);
      return act(
        'commentOnException',
        { id, text },
        key,
        caller,
        () => store.exceptions.comment(id, { id: commentId, author: caller.id, at: now(), text }),
        'exception:comment',
        { comment: commentId },
      );
    },
    resolve: (id, resolution, key, caller) =>
      act(
        'resolveException',
        { id, resolution },
        key,
        caller,
        () => store.exceptions.resolve(id, resolution, caller.id, now()),
        'exception:resolve',
        { resolution },
      ),
  };
}
