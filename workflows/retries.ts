/**
 * The retry of dead-lettered steps: claims a letter (the next due one, or one by id), runs the
 * handler of its step, and on success resolves it and announces `deadLetterResolved`; on
 * failure releases it PENDING with exponential backoff and jitter, or ABANDONED after
 * `retry.maxAttempts`. Each run is a `retry:<step>` step.
 */
import type { EventEmitter } from 'node:events';
import { retryCorrelationId, withCorrelationId } from '../observability/correlation.js';
import type { OrderWorkflowContext } from './context.js';
import { feedDeadLetter, resolveDeadLetterItem } from './exceptions.js';
import type { OrderWorkflowEvents, OrderWorkflows, WorkflowCaller } from './order-types.js';
import type { Placement } from './placement.js';
import type { StepSubject } from './steps.js';

/** Makes retryDeadLetter over the context; `events` is where a resolved letter is announced. */
export function createRetries(
  ctx: OrderWorkflowContext,
  placement: Pick<Placement, 'postToErp'>,
  events: EventEmitter<OrderWorkflowEvents>,
): Pick<OrderWorkflows, 'retryDeadLetter'> {
  const { store, now, steps } = ctx;
  const { postToErp } = placement;
  /** Runs an `events.emit`; a listener that throws must not change the workflow's outcome. */
  const announce = (emit: () => void): void => {
    try {
      emit();
    } catch {
      // A failing listener is the listener's problem, not the order's.
    }
  };

  const retryDeadLetter: OrderWorkflows['retryDeadLetter'] = async (owner, id) => {
    const letter = await store.deadLetters.claim(owner, 60_000, now(), id);
    if (!letter) return null;
    const caller: WorkflowCaller = { id: 'system', correlationId: retryCorrelationId(letter.id) };
    // The order the letter is for, once a handler has loaded it (for the step's report).
    let subject: StepSubject = letter.orderId;
    try {
      switch (letter.step) {
        case 'post:erp': {
          const order = await store.orders.get(letter.orderId);
          if (order) subject = order;
          if (order?.status === 'PENDING_ERP') {
            // The order is ALLOCATED in substance; post it exactly like the first attempt did.
            // In the retry's correlation: the ERP receives it, the bus messages carry it.
            const posted = await withCorrelationId(caller.correlationId, () =>
              postToErp(order, caller),
            );
            if (posted.order.status === 'PENDING_ERP') {
              throw new Error(
                String(
                  (await store.deadLetters.get(letter.id))?.lastError ?? 'ERP still unavailable',
                ),
              );
            }
          }
          break;
        }
        default:
          throw new Error(`no handler for dead-letter step ${letter.step}`);
      }
      const resolved = await store.deadLetters.release(
        letter.id,
        owner,
        { status: 'RESOLVED' },
        now(),
      );
      await steps.record(subject, caller, {
        step: `retry:${letter.step}`,
        outcome: 'SUCCEEDED',
        detail: { deadLetter: letter.id, attempts: letter.attempts },
      });
      // Null when the claim was lost meanwhile: then the letter is not this call's to announce.
      if (resolved) {
        await resolveDeadLetterItem(store, resolved, now());
        announce(() => events.emit('deadLetterResolved', resolved));
      }
      return { letter: resolved ?? letter, resolved: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempts = letter.attempts;
      const outcome =
        attempts >= ctx.retry.maxAttempts
          ? ({ status: 'ABANDONED', lastError: message } as const)
          : ({
              status: 'PENDING',
              lastError: message,
              // Exponential backoff with jitter, so many pending orders do not retry in lockstep.
              nextAttemptAt:
                now() +
                Math.min(ctx.retry.maxMs, ctx.retry.baseMs * 2 ** Math.min(attempts, 20)) *
                  (0.75 + Math.random() / 2),
            } as const);
      const released = await store.deadLetters.release(letter.id, owner, outcome, now());
      await steps.record(subject, caller, {
        step: `retry:${letter.step}`,
        outcome: 'FAILED',
        detail: { deadLetter: letter.id, attempts, error: message },
      });
      // Fed again (the same item: its source is the letter), in case the first feed was lost.
      await feedDeadLetter(store, released ?? letter, now());
      return { letter: released ?? letter, resolved: false };
    }
  };

  return { retryDeadLetter };
}
