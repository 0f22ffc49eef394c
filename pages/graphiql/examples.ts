/**
 * Example operations, one or more per persona (issue #12): what each kind of caller would do
 * first. On the embedded default each carries its persona's demo key in its headers.
 */
import type { DemoKeys } from '../shared/contract.js';

/** One example operation, opened in a GraphiQL tab. */
export interface Example {
  /** The tab's name and the list entry's title. */
  readonly title: string;
  /** Which demo key it uses. */
  readonly persona: keyof DemoKeys;
  /** One sentence on what it shows. */
  readonly description: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

/** The examples, in the order the Examples panel lists them. */
export const EXAMPLES: readonly Example[] = [
  {
    title: 'Storefront: product page',
    persona: 'storefront',
    description:
      'One request for a product page: content from commerce, the list price from the ERP, stock from every warehouse system.',
    query: `# A storefront's product page: one request, four systems behind it.
query ProductPage($sku: String!) {
  product(sku: $sku) {
    sku
    name
    listPrice { amount currencyCode }
    availableToPromise
    inventory { warehouse { code } available asOf source }
  }
}
`,
    variables: { sku: 'SKU-000001' },
  },
  {
    title: 'Customer service: follow orders live',
    persona: 'service',
    description:
      'Order status changes as they happen (graphql-ws on the same path). Give orderId to follow one order.',
    query: `# Customer service: every order status change as it happens.
# Pass { "orderId": "..." } to follow one order; its cursor resumes after a reconnect.
subscription FollowOrders($orderId: ID) {
  orderStatusChanged(orderId: $orderId) {
    cursor
    at
    previousStatus
    status
    order { id number channel }
  }
}
`,
    variables: {},
  },
  {
    title: 'Partner: place an order',
    persona: 'partner',
    description:
      'A marketplace partner places an order; the idempotency key makes a retry return the same order instead of a second one.',
    query: `# A partner places an order. Send it twice: the same idempotency key returns the same
# order (extensions.idempotency.replayed), never a second one.
mutation PlaceOrder($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    order { id number status total { amount currencyCode } lines { sku quantity } }
    userErrors { code field message }
  }
}
`,
    variables: {
      input: {
        channel: 'MARKETPLACE_A',
        customerId: 'C10004',
        lines: [{ sku: 'SKU-000001', quantity: 1 }],
        externalReference: 'MKA-EXAMPLE-1',
      },
      key: 'partner-a-example-1',
    },
  },
  {
    title: 'Operations: replay a dead letter',
    persona: 'operations',
    description:
      'Steps that failed and wait for a retry; replay one by id once the system behind it answers again.',
    query: `# Operations: what failed and waits for a retry, then run one again now.
query DeadLetters {
  deadLetters(status: PENDING) { id step attempts lastError nextAttemptAt order { number status } }
}

mutation Replay($id: ID!, $key: String!) {
  replayDeadLetter(id: $id, idempotencyKey: $key) {
    deadLetter { id status attempts lastError }
    userErrors { code message }
  }
}
`,
    variables: { id: 'DL-…', key: 'replay-1' },
  },
];

/** The headers editor's JSON for a key (a placeholder where no demo key exists). */
export function headersFor(key: string | null): string {
  return JSON.stringify({ Authorization: `Bearer ${key ?? '<your API key>'}` }, null, 2);
}
