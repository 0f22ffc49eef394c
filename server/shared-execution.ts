/**
 * Subscription events resolved once per audience, not once per subscriber (issue #13): the
 * fan-out hands the same event object to every subscriber of a domain, and subscribers asking the
 * same document with the same variables under the same principal scope would each run the same
 * execution and get the same answer. Here an event's execution is kept, for the event's lifetime
 * (a WeakMap on it), per *audience*: the document's text, the operation, the variables and what
 * the answer may depend on of the caller — its client (cursors are sealed per client), role (the
 * policy's field rules), channel and customers (the row scope). Everything else about a caller
 * (its key id, its socket) never reaches a resolver's answer.
 *
 * The rest is graphql-js's own `subscribe`: the source stream is made per subscriber (its
 * arguments, filters and cursor), and each event is executed with it as the root value.
 */
import {
  createSourceEventStream,
  execute,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/** What of a caller an event's answer may depend on (see the module comment). */
export interface Audience {
  readonly client: string;
  readonly role: string;
  readonly channel: string | null;
  readonly customer: string | null;
  readonly customers: readonly string[] | null;
  /** The token's scopes (JWT `scope`), which a resolver may check. */
  readonly scopes: readonly string[];
}

type Execute = (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;

/** The printed text of each document, made once per document object. */
const texts = new WeakMap<DocumentNode, string>();

function textOf(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document);
    texts.set(document, text);
  }
  return text;
}

/**
 * A `subscribe` for graphql-ws whose events are executed once per audience. `audienceOf` reads
 * the audience from the operation's context; `run` executes (graphql-js's `execute` by default).
 */
export function sharedSubscribe(
  audienceOf: (contextValue: unknown) => Audience,
  run: Execute = execute,
): (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const answers = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    const who = audienceOf(args.contextValue);
    const key = JSON.stringify([
      textOf(args.document),
      args.operationName ?? null,
      args.variableValues ?? null,
      who.client,
      who.role,
      who.channel,
      who.customer,
      who.customers,
      who.scopes,
    ]);
    const answer = (payload: unknown): ExecutionResult | Promise<ExecutionResult> => {
      // Only objects can carry a shared answer (a WeakMap key); anything else runs as usual.
      if (payload === null || typeof payload !== 'object')
        return run({ ...args, rootValue: payload });
      let byAudience = answers.get(payload);
      if (!byAudience) answers.set(payload, (byAudience = new Map()));
      let result = byAudience.get(key);
      if (result === undefined) {
        result = run({ ...args, rootValue: payload });
        byAudience.set(key, result);
      }
      return result;
    };
    return mapEvents(source as AsyncGenerator<unknown>, answer);
  };
}

/** `events` mapped through `answer`, passing return and throw on (as graphql-js's map does). */
function mapEvents(
  events: AsyncGenerator<unknown>,
  answer: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>,
): AsyncGenerator<ExecutionResult> {
  const close = async () => {
    await events.return?.(undefined);
  };
  const mapped: AsyncGenerator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => mapped,
    async next() {
      const step = await events.next();
      if (step.done) return { done: true, value: undefined };
      try {
        return { done: false, value: await answer(step.value) };
      } catch (error) {
        await close();
        throw error;
      }
    },
    async return() {
      await close();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await close();
      throw error;
    },
  };
  return mapped;
}
