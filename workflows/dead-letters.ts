/**
 * Replaying a dead letter by hand (Mutation.replayDeadLetter): under the idempotency guard, an
 * unknown or already resolved letter is a userError; otherwise the order workflows run it now,
 * as the retrier would (retries.ts `retryDeadLetter`).
 */
import type { Store } from '../store/contract.js';
import type { IdempotencyGuard } from './idempotency.js';
import type { OrderWorkflows, UserError, WorkflowCaller } from './orders.js';

/** What a replay answers (recorded for idempotent replay; JSON only). */
export interface ReplayOutcome {
  /** The dead letter asked for. */
  readonly id: string;
  readonly userErrors: readonly UserError[];
}

/** The dead-letter workflows. */
export interface DeadLetterWorkflows {
  /** Runs dead letter `id` now, once per (caller, key). */
  replay(
    id: string,
    key: string,
    caller: WorkflowCaller,
  ): Promise<{ outcome: ReplayOutcome; replayed: boolean }>;
}

/** What {@link createDeadLetterWorkflows} needs. */
export interface DeadLetterWorkflowDeps {
  readonly store: Store;
  readonly guard: IdempotencyGuard;
  readonly orders: Pick<OrderWorkflows, 'retryDeadLetter'>;
}

/** Makes the dead-letter workflows. */
export function createDeadLetterWorkflows(deps: DeadLetterWorkflowDeps): DeadLetterWorkflows {
  const { store, guard, orders } = deps;
  return {
    async replay(id, key, caller) {
      const guarded = await guard.run(
        { scope: caller.id, key, operation: 'replayDeadLetter', input: { id } },
        async (): Promise<ReplayOutcome> => {
          const letter = await store.deadLetters.get(id);
          if (!letter)
            return {
              id,
              userErrors: [
                {
                  code: 'DEAD_LETTER_NOT_FOUND',
                  field: ['id'],
                  message: `No dead letter with id ${id}`,
                },
              ],
            };
          if (letter.status === 'RESOLVED')
            return {
              id,
              userErrors: [
                {
                  code: 'DEAD_LETTER_RESOLVED',
                  field: ['id'],
                  message: `Dead letter ${id} is already resolved`,
                },
              ],
            };
          // Claimed under an owner that names a manual replay; the claim's lease keeps the
          // retriers of every process off the letter meanwhile.
          await orders.retryDeadLetter(`${guard.owner}:manual`, id);
          return { id, userErrors: [] };
        },
      );
      return { outcome: guarded.result, replayed: guarded.replayed };
    },
  };
}
