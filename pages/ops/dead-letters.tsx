/** @jsxImportSource preact */
/**
 * Dead letters: workflow steps that failed and wait for their next automatic attempt, with a
 * replay that runs one now (replayDeadLetter, under a fresh idempotency key per attempt).
 */
import { useState } from 'preact/hooks';
import { errorText, newIdempotencyKey } from '../shared/api.js';
import { formatTime, useApi, useQuery } from './hooks.js';

const DEAD_LETTERS = `query OpsDeadLetters($status: DeadLetterStatus) {
  deadLetters(status: $status, first: 100) {
    id step status attempts lastError nextAttemptAt createdAt
    order { id number status channel }
  }
}`;

const REPLAY = `mutation OpsReplay($id: ID!, $key: String!) {
  replayDeadLetter(id: $id, idempotencyKey: $key) {
    deadLetter { id status attempts lastError nextAttemptAt }
    userErrors { code message }
  }
}`;

interface DeadLetter {
  readonly id: string;
  readonly step: string;
  readonly status: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly nextAttemptAt: string;
  readonly createdAt: string;
  readonly order: { id: string; number: string; status: string; channel: string } | null;
}

const STATUSES = ['PENDING', 'RETRYING', 'ABANDONED', 'RESOLVED'] as const;

/** The dead letters view. */
export function DeadLettersView(props: { onOpenOrder(id: string): void }) {
  const api = useApi();
  const [status, setStatus] = useState<string>('PENDING');
  const letters = useQuery<{ deadLetters: DeadLetter[] }>(
    DEAD_LETTERS,
    status ? { status } : {},
    10_000,
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const replay = async (letter: DeadLetter) => {
    setBusy(letter.id);
    const result = await api.request<{
      replayDeadLetter: {
        deadLetter: { status: string; attempts: number; lastError: string } | null;
        userErrors: { code: string; message: string }[];
      };
    }>(REPLAY, { id: letter.id, key: newIdempotencyKey(`replay-${letter.id}`) });
    const payload = result.data?.replayDeadLetter;
    const text =
      errorText(result.errors) ??
      (payload?.userErrors[0]
        ? `${payload.userErrors[0].code}: ${payload.userErrors[0].message}`
        : payload?.deadLetter
          ? payload.deadLetter.status === 'RESOLVED'
            ? 'Replayed: RESOLVED'
            : `Replayed: still ${payload.deadLetter.status} (${payload.deadLetter.lastError})`
          : 'No answer');
    setOutcome((o) => ({ ...o, [letter.id]: text }));
    // Also above the table: with a status filter, a resolved letter leaves the list.
    setNotice(`${letter.id} (${letter.step}): ${text}`);
    setBusy(null);
    await letters.reload();
  };
  const rows = letters.data?.deadLetters ?? [];
  return (
    <section aria-labelledby="dead-letters-title">
      <header class="view-header">
        <h2 id="dead-letters-title">Dead letters</h2>
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void letters.reload()}>
          Refresh
        </button>
      </header>
      {letters.error && (
        <p role="alert" class="error">
          {letters.error}
        </p>
      )}
      <p role="status" class="notice" data-testid="replay-notice">
        {notice ?? ''}
      </p>
      <p aria-live="polite" class="muted">
        {letters.loading ? 'Loading…' : `${rows.length} dead letter${rows.length === 1 ? '' : 's'}`}
      </p>
      <table>
        <caption>Failed steps waiting for a retry, newest last</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Order</th>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((letter) => (
            <tr key={letter.id} data-dead-letter={letter.id}>
              <th scope="row">{letter.id}</th>
              <td>
                {letter.order ? (
                  <button
                    type="button"
                    class="link"
                    onClick={() => props.onOpenOrder(letter.order!.number)}
                  >
                    {letter.order.number}
                  </button>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <code>{letter.step}</code>
              </td>
              <td>
                <span class={`badge dl-${letter.status}`}>{letter.status}</span>
              </td>
              <td>{letter.attempts}</td>
              <td class="wrap">{letter.lastError}</td>
              <td>{formatTime(letter.nextAttemptAt)}</td>
              <td>
                <button
                  type="button"
                  disabled={busy !== null || letter.status === 'RESOLVED'}
                  onClick={() => void replay(letter)}
                  aria-label={`Replay ${letter.id}`}
                >
                  {busy === letter.id ? 'Replaying…' : 'Replay'}
                </button>
                {outcome[letter.id] && (
                  <div role="status" class="outcome">
                    {outcome[letter.id]}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
