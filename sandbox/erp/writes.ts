/**
 * Writes of the sandbox ERP, as Business Central API v2.0 makes them: `POST salesOrders` with a
 * deep insert of `salesOrderLines`, `DELETE salesOrders({id})` under `If-Match`,
 * `POST salesCreditMemos` with `salesCreditMemoLines`, the bound action
 * `salesOrders({id})/Microsoft.NAV.shipAndInvoice` (posts a sales invoice) and
 * `PATCH customers({id})` of `blocked` under `If-Match`. Bodies are checked field by field against
 * the entity shape; failures answer with BC's codes and, where the AL source has one, its text
 * (APIV2 pages "Sales Orders", "Sales Order Lines", "Sales Credit Memos").
 *
 * What the sandbox decides on its own (each marked where it happens):
 * - read-only fields in a body (`number`, totals, `status`, ...) are ignored, not refused (BC's
 *   behaviour UNCONFIRMED); fields BC writes but the sandbox does not (bill-to, sell-to, discounts,
 *   dimensions, ...) answer 400 `BadRequest_NotSupported`;
 * - lines are item lines only; `quantity` must be > 0 (BC accepts zero and negative quantities);
 *   `unitPrice` has at most 2 decimals (BC allows 5) so amounts stay in integer cents;
 * - a created order is `Open` (released) at once, where BC shows `Draft` until someone releases
 *   it: Crossdock releases every order it creates to a warehouse in the same breath, and API v2.0
 *   has no release action to do it with;
 * - the blocked check follows the `blocked` option alone: `Ship` and `All` refuse an order,
 *   `All` a credit memo (BC's CheckBlockedCustOnDocs weighs more, e.g. the document type);
 * - the not-found texts of BC (`The sell-to customer cannot be found.`, `Item does not exist.`)
 *   name nothing; the sandbox appends BC's usual `Identification fields and values:` suffix.
 * - shipAndInvoice ships and invoices every line's remaining quantity at once and keeps the order
 *   (BC deletes a fully posted order); it writes no posted shipment or item ledger entries, and
 *   refuses with the texts of BC's posting checks ("There is nothing to post.", blocked customer);
 * - PATCH of a customer writes `blocked` alone; any other field answers 400
 *   `BadRequest_NotSupported`.
 * POST is not idempotent, as in BC: the same `externalDocumentNumber` twice makes two documents.
 */
import { randomUUID } from 'node:crypto';
import { CHANNELS } from '../seed.js';
import type {
  CustomerRow,
  ItemRow,
  SalesCreditMemoLineRow,
  SalesCreditMemoRow,
  SalesInvoiceRow,
  SalesOrderLineRow,
  SalesOrderRow,
} from './entities.js';
import { ODataError } from './errors.js';
import { EDM, unknownProperty, type EntityShape, type FieldType } from './filter.js';
import type { ErpStore } from './store.js';
import { EMPTY_GUID, etagOf, type Entity } from './table.js';
import { CUSTOMER_BLOCKED, isCustomerBlocked } from './webhooks.js';

/** What a write needs besides the store. */
export interface WriteContext {
  readonly store: ErpStore;
  /** The company's clock (ms since the epoch): dates and `lastModifiedDateTime`. */
  readonly now: () => number;
  /** The local currency (LCY) code; `''` in a body means it too. */
  readonly localCurrency: string;
}

type Scalar = string | number | boolean;
type JsonObject = Readonly<Record<string, unknown>>;

/** Which fields of an entity a body may set. */
interface BodySpec {
  readonly shape: EntityShape;
  /** Fields the sandbox writes. */
  readonly writable: ReadonlySet<string>;
  /** Fields BC computes: accepted in a body and ignored. The rest of the shape is refused. */
  readonly readOnly: ReadonlySet<string>;
  /** Navigations a body may deep-insert, with the spec of their entities. */
  readonly deep: Readonly<Record<string, BodySpec>>;
}

/** A body checked against its spec: the scalar fields it sets, and its deep-inserted children. */
interface ReadBody {
  readonly fields: ReadonlyMap<string, Scalar>;
  readonly children: ReadonlyMap<string, readonly JsonObject[]>;
}

/** BC's length limits of the written text and code fields; code fields are upper-cased. */
const LIMITS: Readonly<Record<string, { readonly max: number; readonly code: boolean }>> = {
  externalDocumentNumber: { max: 35, code: true },
  customerNumber: { max: 20, code: true },
  lineObjectNumber: { max: 20, code: true },
  currencyCode: { max: 10, code: true },
  salesperson: { max: 20, code: true },
  shipToName: { max: 100, code: false },
  shipToContact: { max: 100, code: false },
  shipToAddressLine1: { max: 100, code: false },
  shipToAddressLine2: { max: 50, code: false },
  shipToCity: { max: 30, code: false },
  shipToState: { max: 30, code: false },
  shipToPostCode: { max: 20, code: true },
  shipToCountry: { max: 10, code: true },
  phoneNumber: { max: 30, code: false },
  email: { max: 80, code: false },
  description: { max: 100, code: false },
};

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const set = (...names: string[]): ReadonlySet<string> => new Set(names);

const LINE_WRITABLE = set(
  'sequence',
  'itemId',
  'lineType',
  'lineObjectNumber',
  'description',
  'quantity',
  'unitPrice',
  'shipmentDate',
);
const LINE_READ_ONLY = set(
  'id',
  'documentId',
  'amountExcludingTax',
  'discountAppliedBeforeTax',
  'taxPercent',
  'totalTaxAmount',
  'amountIncludingTax',
  'invoiceDiscountAllocation',
  'netAmount',
  'netTaxAmount',
  'netAmountIncludingTax',
);
const DOCUMENT_READ_ONLY = [
  'id',
  'number',
  'customerName',
  'billToName',
  'discountAppliedBeforeTax',
  'totalAmountExcludingTax',
  'totalTaxAmount',
  'totalAmountIncludingTax',
  'status',
  'lastModifiedDateTime',
];

/** Writes bodies of `salesOrders`. */
function orderSpec(store: ErpStore): BodySpec {
  const lines = store.salesOrders.navigations['salesOrderLines'];
  if (!lines) throw new Error('salesOrders has no salesOrderLines navigation');
  return {
    shape: store.salesOrders.shape,
    writable: set(
      'externalDocumentNumber',
      'orderDate',
      'postingDate',
      'requestedDeliveryDate',
      'customerId',
      'customerNumber',
      'shipToName',
      'shipToContact',
      'shipToAddressLine1',
      'shipToAddressLine2',
      'shipToCity',
      'shipToState',
      'shipToPostCode',
      'shipToCountry',
      'currencyCode',
      'partialShipping',
      'salesperson',
      'phoneNumber',
      'email',
      'crossdockChannel',
    ),
    readOnly: set(...DOCUMENT_READ_ONLY, 'fullyShipped'),
    deep: {
      salesOrderLines: {
        shape: lines.shape,
        writable: LINE_WRITABLE,
        readOnly: set(...LINE_READ_ONLY, 'shippedQuantity', 'invoicedQuantity'),
        deep: {},
      },
    },
  };
}

/** Writes bodies of `salesCreditMemos`. */
function creditMemoSpec(store: ErpStore): BodySpec {
  const lines = store.salesCreditMemos.navigations['salesCreditMemoLines'];
  if (!lines) throw new Error('salesCreditMemos has no salesCreditMemoLines navigation');
  return {
    shape: store.salesCreditMemos.shape,
    writable: set(
      'externalDocumentNumber',
      'creditMemoDate',
      'postingDate',
      'dueDate',
      'customerId',
      'customerNumber',
      'currencyCode',
      'salesperson',
      'phoneNumber',
      'email',
    ),
    readOnly: set(...DOCUMENT_READ_ONLY, 'pricesIncludeTax'),
    deep: {
      salesCreditMemoLines: {
        shape: lines.shape,
        writable: LINE_WRITABLE,
        readOnly: LINE_READ_ONLY,
        deep: {},
      },
    },
  };
}

/** 400 `BadRequest_InvalidToken`, ODataLib's answer to a literal of the wrong type. */
function wrongType(value: unknown, type: string): ODataError {
  return new ODataError(
    400,
    'BadRequest_InvalidToken',
    `Cannot convert the literal '${JSON.stringify(value)}' to the expected type '${type}'.`,
  );
}

/** 400 `Application_DialogException`: a business rule of BC refused the write. */
function dialog(message: string): ODataError {
  return new ODataError(400, 'Application_DialogException', message);
}

/** 400 `Application_FieldValidationException`: a field's value broke its rule. */
function fieldValidation(message: string): ODataError {
  return new ODataError(400, 'Application_FieldValidationException', message);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkLiteral(name: string, type: FieldType, value: unknown): Scalar {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'guid':
      if (typeof value === 'string' && GUID.test(value)) return value.toLowerCase();
      break;
    case 'date':
      if (typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value))) {
        return value;
      }
      break;
    case 'datetime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      break;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    default: {
      const never: never = type;
      throw new Error(`unknown field type ${String(never)} of ${name}`);
    }
  }
  throw wrongType(value, EDM[type]);
}

/** Checks a JSON body against `spec`: known properties, literal types, supported fields. */
function readBody(body: unknown, spec: BodySpec, what: string): ReadBody {
  if (!isObject(body)) {
    throw new ODataError(
      400,
      'BadRequest_InvalidToken',
      `The request body of ${what} must be a JSON object; got ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}.`,
    );
  }
  const fields = new Map<string, Scalar>();
  const children = new Map<string, readonly JsonObject[]>();
  for (const [name, value] of Object.entries(body)) {
    // Instance annotations (`@odata.etag`, `@odata.context`) ride along on round-tripped bodies.
    if (name.startsWith('@')) continue;
    const child = spec.deep[name];
    if (child) {
      if (!Array.isArray(value) || !value.every(isObject)) {
        throw wrongType(value, `Collection(${child.shape.typeName})`);
      }
      children.set(name, value);
      continue;
    }
    const type = spec.shape.fields[name];
    if (type === undefined) throw unknownProperty(name, spec.shape);
    if (spec.readOnly.has(name)) continue;
    if (!spec.writable.has(name)) {
      throw new ODataError(
        400,
        'BadRequest_NotSupported',
        `The sandbox does not write '${name}' of '${spec.shape.typeName}'; it writes ${[...spec.writable].join(', ')}.`,
      );
    }
    fields.set(name, checkLiteral(name, type, value));
  }
  return { fields, children };
}

/** A text or code field within BC's length; code fields upper-cased, as BC stores them. */
function limited(name: string, value: string): string {
  const limit = LIMITS[name];
  if (!limit) return value;
  if (value.length > limit.max) {
    // BC's text for an overlong value (AL runtime, `Application_StringExceededLength`).
    throw new ODataError(
      400,
      'Application_StringExceededLength',
      `The length of the string is ${value.length}, but it must be less than or equal to ${limit.max} characters. Value: ${value}`,
    );
  }
  return limit.code ? value.toUpperCase() : value;
}

function text(fields: ReadonlyMap<string, Scalar>, name: string): string | undefined {
  const value = fields.get(name);
  return typeof value === 'string' ? limited(name, value) : undefined;
}

/**
 * A decimal JSON number as an integer count of 10^-`places`, or undefined when it has more
 * decimals. Works on the number's shortest round-trip form, so 19.99 is 1999 cents exactly.
 */
function scaled(value: number, places: number): bigint | undefined {
  // Beyond 10^10 a quantity or price is not one, and its text form turns exponential.
  if (!Number.isFinite(value) || Math.abs(value) >= MAX_AMOUNT) return undefined;
  const textForm = Math.abs(value).toFixed(20).replace(/0+$/, '');
  const shortest = String(Math.abs(value));
  const form = /e/i.test(shortest) ? textForm : shortest;
  const [whole = '0', fraction = ''] = form.split('.');
  if (fraction.length > places) return undefined;
  const units = BigInt(whole + fraction.padEnd(places, '0'));
  return value < 0 ? -units : units;
}

/** Quantities and unit prices stay below this (so cents × units stay exact). */
const MAX_AMOUNT = 1e10;

const money = (cents: number): number => cents / 100;

/** Quantity × unit price in cents, rounded half up to the cent (quantities have 5 decimals). */
function lineAmountCents(quantity: bigint, unitPriceCents: bigint): number {
  const product = quantity * unitPriceCents;
  return Number((product + 50_000n) / 100_000n);
}

const todayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function resolveCustomer(
  store: ErpStore,
  fields: ReadonlyMap<string, Scalar>,
): Entity<CustomerRow> {
  const id = fields.get('customerId');
  const number = text(fields, 'customerNumber');
  if (id === undefined && number === undefined) {
    throw dialog('A "customerNumber" or a "customerId" must be provided.');
  }
  let byId: Entity<CustomerRow> | undefined;
  if (typeof id === 'string') {
    byId = store.customers.byId(id);
    if (!byId) {
      throw dialog(
        `The sell-to customer cannot be found. Identification fields and values: Id='${id}'.`,
      );
    }
  }
  if (number === undefined) {
    if (!byId) throw new Error('unreachable: a customer id was checked above');
    return byId;
  }
  if (byId) {
    if (byId.row.number !== number) {
      throw dialog('The sell-to customer values do not match to a specific Customer.');
    }
    return byId;
  }
  const byNumber = store.customers.byKey(number);
  if (!byNumber) {
    throw dialog(
      `The sell-to customer cannot be found. Identification fields and values: No.='${number}'.`,
    );
  }
  return byNumber;
}

function checkBlocked(customer: CustomerRow, refused: readonly string[]): void {
  if (refused.includes(customer.blocked)) {
    throw dialog(
      `You cannot create this type of document when Customer ${customer.number} is blocked with type ${customer.blocked}.`,
    );
  }
}

function resolveCurrency(fields: ReadonlyMap<string, Scalar>, local: string): string {
  const code = text(fields, 'currencyCode');
  if (code === undefined || code === '' || code === local) return local;
  throw dialog(
    `The "currencyCode" does not match to a Currency. Identification fields and values: Code='${code}'.`,
  );
}

/** One checked line, before it becomes an order or credit memo line. */
interface LineDraft {
  readonly sequence: number;
  readonly item: Entity<ItemRow>;
  readonly description: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly amountCents: number;
  readonly shipmentDate: string;
}

const LINE_TYPES: ReadonlySet<string> = new Set([
  'Comment',
  'Account',
  'Item',
  'Resource',
  'Fixed Asset',
  'Charge',
]);

function readLines(
  store: ErpStore,
  bodies: readonly JsonObject[],
  spec: BodySpec,
  what: string,
  documentDate: string,
): LineDraft[] {
  const sequences = new Set<number>();
  return bodies.map((body, index) => {
    const at = `line ${index + 1}`;
    const { fields } = readBody(body, spec, `${what} ${at}`);
    const lineType = fields.get('lineType');
    if (lineType !== undefined && lineType !== 'Item') {
      if (typeof lineType === 'string' && LINE_TYPES.has(lineType)) {
        throw new ODataError(
          400,
          'BadRequest_NotSupported',
          `The sandbox writes item lines only: expected lineType 'Item' on ${at}, got '${lineType}'.`,
        );
      }
      throw wrongType(lineType, 'Microsoft.NAV.lineType');
    }
    const itemId = fields.get('itemId');
    const number = text(fields, 'lineObjectNumber');
    let item: Entity<ItemRow> | undefined;
    if (typeof itemId === 'string') {
      item = store.items.byId(itemId);
      if (!item) {
        throw dialog(`Item does not exist. Identification fields and values: Id='${itemId}'.`);
      }
      if (number !== undefined && number !== item.row.number) {
        throw dialog(
          `The "itemId" and "lineObjectNumber" of ${at} name different items: '${item.row.number}' and '${number}'.`,
        );
      }
    } else if (number !== undefined) {
      item = store.items.byKey(number);
      if (!item) {
        throw dialog(`Item does not exist. Identification fields and values: No.='${number}'.`);
      }
    } else {
      throw fieldValidation(`lineObjectNumber or itemId must have a value on ${at}; got neither.`);
    }
    if (item.row.blocked) {
      throw dialog(
        `Blocked must be equal to 'No' in Item: No.=${item.row.number}. Current value is 'Yes'.`,
      );
    }
    const rawQuantity = fields.get('quantity');
    const quantity = typeof rawQuantity === 'number' ? rawQuantity : 0;
    // A sandbox rule: BC itself takes zero and negative quantities.
    if (quantity <= 0) {
      throw fieldValidation(
        `Quantity must be greater than 0 on ${at} (${item.row.number}); got ${quantity}.`,
      );
    }
    const quantityUnits = scaled(quantity, 5);
    if (quantityUnits === undefined) {
      throw fieldValidation(
        `Quantity must be below 10000000000 with at most 5 decimal places on ${at} (${item.row.number}); got ${quantity}.`,
      );
    }
    const rawPrice = fields.get('unitPrice');
    const price = typeof rawPrice === 'number' ? rawPrice : item.row.unitPrice;
    const priceCents = scaled(price, 2);
    if (priceCents === undefined || priceCents < 0n) {
      throw fieldValidation(
        `Unit Price must be a non-negative amount below 10000000000 with at most 2 decimal places on ${at} (${item.row.number}); got ${price}.`,
      );
    }
    const rawSequence = fields.get('sequence');
    const sequence = typeof rawSequence === 'number' ? rawSequence : (index + 1) * 10_000;
    if (!Number.isInteger(sequence) || sequence < 1 || sequences.has(sequence)) {
      throw fieldValidation(
        `sequence must be a positive integer unique within the document on ${at}; got ${sequence}.`,
      );
    }
    sequences.add(sequence);
    const shipmentDate = fields.get('shipmentDate');
    return {
      sequence,
      item,
      description: text(fields, 'description') ?? item.row.displayName,
      quantity,
      unitPriceCents: Number(priceCents),
      amountCents: lineAmountCents(quantityUnits, priceCents),
      shipmentDate: typeof shipmentDate === 'string' ? shipmentDate : documentDate,
    };
  });
}

/** The line amount fields every document line shares, tax-exempt like the whole sandbox. */
function lineAmounts(line: LineDraft) {
  return {
    unitPrice: money(line.unitPriceCents),
    discountAmount: 0,
    discountPercent: 0,
    discountAppliedBeforeTax: false,
    amountExcludingTax: money(line.amountCents),
    taxCode: '',
    taxPercent: 0,
    totalTaxAmount: 0,
    amountIncludingTax: money(line.amountCents),
    invoiceDiscountAllocation: 0,
    netAmount: money(line.amountCents),
    netTaxAmount: 0,
    netAmountIncludingTax: money(line.amountCents),
  };
}

function lineIdentity(line: LineDraft, documentId: string) {
  return {
    id: randomUUID(),
    documentId,
    sequence: line.sequence,
    itemId: line.item.row.id,
    accountId: EMPTY_GUID,
    lineType: 'Item',
    lineObjectNumber: line.item.row.number,
    description: line.description,
    description2: '',
    unitOfMeasureId: line.item.row.baseUnitOfMeasureId,
    unitOfMeasureCode: line.item.row.baseUnitOfMeasureCode,
    quantity: line.quantity,
  };
}

function sellTo(customer: CustomerRow) {
  return {
    customerId: customer.id,
    customerNumber: customer.number,
    customerName: customer.displayName,
    billToName: customer.displayName,
    billToCustomerId: customer.id,
    billToCustomerNumber: customer.number,
    sellToAddressLine1: customer.addressLine1,
    sellToAddressLine2: customer.addressLine2,
    sellToCity: customer.city,
    sellToCountry: customer.country,
    sellToState: customer.state,
    sellToPostCode: customer.postalCode,
    billToAddressLine1: customer.addressLine1,
    billToAddressLine2: customer.addressLine2,
    billToCity: customer.city,
    billToCountry: customer.country,
    billToState: customer.state,
    billToPostCode: customer.postalCode,
    currencyId: EMPTY_GUID,
    paymentTermsId: customer.paymentTermsId,
    shipmentMethodId: customer.shipmentMethodId,
  };
}

const sumCents = (lines: readonly LineDraft[]): number =>
  lines.reduce((sum, line) => sum + line.amountCents, 0);

/** `POST salesOrders`: a new order with its lines, numbered from the series. */
export function createSalesOrder(context: WriteContext, body: unknown): Entity<SalesOrderRow> {
  const { store } = context;
  const spec = orderSpec(store);
  const { fields, children } = readBody(body, spec, 'salesOrders');
  const customer = resolveCustomer(store, fields).row;
  checkBlocked(customer, ['Ship', 'All']);
  const currencyCode = resolveCurrency(fields, context.localCurrency);
  const channel = fields.get('crossdockChannel') ?? '';
  if (typeof channel !== 'string' || (channel !== '' && !CHANNELS.some((c) => c === channel))) {
    throw wrongType(channel, `Microsoft.NAV.crossdockChannel (one of ${CHANNELS.join(', ')})`);
  }
  const now = context.now();
  const orderDate = String(fields.get('orderDate') ?? todayOf(now));
  const lineSpec = spec.deep['salesOrderLines'];
  if (!lineSpec) throw new Error('salesOrders spec has no salesOrderLines');
  const lines = readLines(
    store,
    children.get('salesOrderLines') ?? [],
    lineSpec,
    'salesOrderLines',
    orderDate,
  );

  const id = randomUUID();
  const totalCents = sumCents(lines);
  const shipTo = (name: string, fallback: string): string => text(fields, name) ?? fallback;
  const partialShipping = fields.get('partialShipping');
  const row: SalesOrderRow = {
    id,
    number: store.series.salesOrder.next(),
    externalDocumentNumber: text(fields, 'externalDocumentNumber') ?? '',
    orderDate,
    postingDate: String(fields.get('postingDate') ?? orderDate),
    requestedDeliveryDate: String(fields.get('requestedDeliveryDate') ?? '0001-01-01'),
    partialShipping: typeof partialShipping === 'boolean' ? partialShipping : true,
    fullyShipped: false,
    ...sellTo(customer),
    shipToName: shipTo('shipToName', customer.displayName),
    shipToContact: shipTo('shipToContact', ''),
    shipToAddressLine1: shipTo('shipToAddressLine1', customer.addressLine1),
    shipToAddressLine2: shipTo('shipToAddressLine2', customer.addressLine2),
    shipToCity: shipTo('shipToCity', customer.city),
    shipToCountry: shipTo('shipToCountry', customer.country),
    shipToState: shipTo('shipToState', customer.state),
    shipToPostCode: shipTo('shipToPostCode', customer.postalCode),
    currencyCode,
    pricesIncludeTax: false,
    salesperson: text(fields, 'salesperson') ?? '',
    discountAmount: 0,
    discountAppliedBeforeTax: true,
    totalAmountExcludingTax: money(totalCents),
    totalTaxAmount: 0,
    totalAmountIncludingTax: money(totalCents),
    // Released at once (see the file header): Crossdock hands every order it creates to a warehouse.
    status: 'Open',
    lastModifiedDateTime: new Date(now).toISOString(),
    phoneNumber: text(fields, 'phoneNumber') ?? customer.phoneNumber,
    email: text(fields, 'email') ?? customer.email,
    crossdockChannel: channel,
  };
  const entities = lines.map((line): Entity<SalesOrderLineRow> => {
    const lineRow: SalesOrderLineRow = {
      ...lineIdentity(line, id),
      ...lineAmounts(line),
      shipmentDate: line.shipmentDate,
      shippedQuantity: 0,
      invoicedQuantity: 0,
      invoiceQuantity: 0,
      shipQuantity: line.quantity,
      itemVariantId: EMPTY_GUID,
      locationId: EMPTY_GUID,
    };
    return { row: lineRow, etag: etagOf(lineRow.id, store.version()) };
  });
  entities.sort((a, b) => a.row.sequence - b.row.sequence);
  const created = store.salesOrders.upsert(row);
  store.linesByOrder.set(id, entities);
  for (const line of entities) store.lineById.set(line.row.id, line);
  return created;
}

/** `POST salesCreditMemos`: a new draft credit memo (a return) with its lines. */
export function createSalesCreditMemo(
  context: WriteContext,
  body: unknown,
): Entity<SalesCreditMemoRow> {
  const { store } = context;
  const spec = creditMemoSpec(store);
  const { fields, children } = readBody(body, spec, 'salesCreditMemos');
  const customer = resolveCustomer(store, fields).row;
  checkBlocked(customer, ['All']);
  const currencyCode = resolveCurrency(fields, context.localCurrency);
  const now = context.now();
  const creditMemoDate = String(fields.get('creditMemoDate') ?? todayOf(now));
  const lineSpec = spec.deep['salesCreditMemoLines'];
  if (!lineSpec) throw new Error('salesCreditMemos spec has no salesCreditMemoLines');
  const lines = readLines(
    store,
    children.get('salesCreditMemoLines') ?? [],
    lineSpec,
    'salesCreditMemoLines',
    creditMemoDate,
  );
  const id = randomUUID();
  const totalCents = sumCents(lines);
  const row: SalesCreditMemoRow = {
    id,
    number: store.series.salesCreditMemo.next(),
    externalDocumentNumber: text(fields, 'externalDocumentNumber') ?? '',
    creditMemoDate,
    postingDate: String(fields.get('postingDate') ?? creditMemoDate),
    dueDate: String(fields.get('dueDate') ?? creditMemoDate),
    ...sellTo(customer),
    currencyCode,
    salesperson: text(fields, 'salesperson') ?? '',
    pricesIncludeTax: false,
    discountAmount: 0,
    discountAppliedBeforeTax: true,
    totalAmountExcludingTax: money(totalCents),
    totalTaxAmount: 0,
    totalAmountIncludingTax: money(totalCents),
    // Unposted: a credit memo is a Draft until posted (the sandbox has no post action).
    status: 'Draft',
    lastModifiedDateTime: new Date(now).toISOString(),
    invoiceId: EMPTY_GUID,
    invoiceNumber: '',
    phoneNumber: text(fields, 'phoneNumber') ?? customer.phoneNumber,
    email: text(fields, 'email') ?? customer.email,
    customerReturnReasonId: EMPTY_GUID,
  };
  const entities = lines.map((line): Entity<SalesCreditMemoLineRow> => {
    const lineRow: SalesCreditMemoLineRow = {
      ...lineIdentity(line, id),
      ...lineAmounts(line),
      shipmentDate: line.shipmentDate,
      itemVariantId: EMPTY_GUID,
      locationId: EMPTY_GUID,
    };
    return { row: lineRow, etag: etagOf(lineRow.id, store.version()) };
  });
  entities.sort((a, b) => a.row.sequence - b.row.sequence);
  const created = store.salesCreditMemos.upsert(row);
  store.creditMemoLines.set(id, entities);
  return created;
}

/**
 * BC's `If-Match` rules (reference "Concurrency"): missing → 400 `BadRequest_InvalidToken`,
 * `*` or the current etag → go ahead, anything else → 409 `Request_EntityChanged`.
 */
export function checkIfMatch(current: string, header: string | undefined): void {
  if (header === undefined || header.trim() === '') {
    throw new ODataError(
      400,
      'BadRequest_InvalidToken',
      'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.',
    );
  }
  const tags = header.split(',').map((tag) => tag.trim());
  if (tags.includes('*') || tags.includes(current)) return;
  throw new ODataError(
    409,
    'Request_EntityChanged',
    'Another user has already changed the record.',
  );
}

/** `DELETE salesOrders({id})`: removes an order nothing has shipped from, with its lines. */
export function deleteSalesOrder(
  context: WriteContext,
  id: string,
  ifMatch: string | undefined,
): void {
  const { store } = context;
  const order = store.salesOrders.byId(id);
  if (!order) {
    throw new ODataError(
      404,
      'BadRequest_NotFound',
      "Resource not found for the segment 'salesOrders'.",
    );
  }
  checkIfMatch(order.etag, ifMatch);
  const lines = store.linesByOrder.get(order.row.id.toLowerCase()) ?? [];
  const shipped = lines.find((line) => line.row.shippedQuantity > 0);
  if (shipped) {
    // Wording is the sandbox's (BC refuses through its Sales Line delete checks).
    throw dialog(
      `You cannot delete order ${order.row.number} because it has been shipped: line ${shipped.row.sequence} (${shipped.row.lineObjectNumber}) has a shipped quantity of ${shipped.row.shippedQuantity}.`,
    );
  }
  store.salesOrders.delete(order.row.id);
  store.linesByOrder.delete(order.row.id.toLowerCase());
  for (const line of lines) store.lineById.delete(line.row.id.toLowerCase());
}

/** The days of a BC date formula of whole days (`30D`); 0 for anything else. */
function daysOf(formula: string): number {
  const match = /^(\d{1,4})D$/.exec(formula);
  return match?.[1] ? Number(match[1]) : 0;
}

const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** 404 for a keyed entity that does not exist, as BC words it. */
function notFound(set: string): ODataError {
  return new ODataError(404, 'BadRequest_NotFound', `Resource not found for the segment '${set}'.`);
}

/**
 * `POST salesOrders({id})/Microsoft.NAV.shipAndInvoice`: ships and invoices what is left on every
 * line and posts a sales invoice for it (numbered from the `PSI-` series, `orderNumber` = the
 * order's). Returns the posted invoice.
 */
export function shipAndInvoice(context: WriteContext, id: string): Entity<SalesInvoiceRow> {
  const { store } = context;
  const order = store.salesOrders.byId(id);
  if (!order) throw notFound('salesOrders');
  const lines = store.linesByOrder.get(order.row.id.toLowerCase()) ?? [];
  const open = lines.filter((line) => line.row.invoicedQuantity < line.row.quantity);
  if (open.length === 0) {
    throw dialog(
      `There is nothing to post. Sales order ${order.row.number} is already fully shipped and invoiced.`,
    );
  }
  const customer = store.customers.byId(order.row.customerId)?.row;
  const blocked = customer?.blocked ?? ' ';
  if (blocked !== ' ') {
    const verb = blocked === 'Invoice' ? 'invoice' : 'ship';
    throw dialog(
      `You cannot ${verb} this type of document when Customer ${order.row.customerNumber} is blocked with type ${blocked}.`,
    );
  }

  const now = context.now();
  const today = todayOf(now);
  const stamp = new Date(now).toISOString();
  let totalCents = 0;
  for (const line of open) {
    const { quantity, invoicedQuantity, unitPrice, amountIncludingTax } = line.row;
    // The whole line at once is its stored amount; a rest is priced again (rounded to the cent).
    totalCents +=
      invoicedQuantity === 0
        ? Math.round(amountIncludingTax * 100)
        : Math.round((quantity - invoicedQuantity) * Math.round(unitPrice * 100));
  }
  const posted = lines.map((line): Entity<SalesOrderLineRow> => {
    const row: SalesOrderLineRow = {
      ...line.row,
      shippedQuantity: line.row.quantity,
      invoicedQuantity: line.row.quantity,
      shipQuantity: 0,
      invoiceQuantity: 0,
    };
    const entity = { row, etag: etagOf(row.id, store.version()) };
    store.lineById.set(row.id.toLowerCase(), entity);
    return entity;
  });
  store.linesByOrder.set(order.row.id.toLowerCase(), posted);
  const updated = store.salesOrders.upsert({
    ...order.row,
    fullyShipped: true,
    lastModifiedDateTime: stamp,
  }).row;

  const {
    id: _id,
    number: _number,
    externalDocumentNumber,
    orderDate: _orderDate,
    postingDate: _postingDate,
    requestedDeliveryDate: _requestedDeliveryDate,
    partialShipping: _partialShipping,
    fullyShipped: _fullyShipped,
    crossdockChannel,
    ...party
  } = updated;
  const terms = store.paymentTerms.byId(updated.paymentTermsId)?.row;
  const invoice: SalesInvoiceRow = {
    ...party,
    id: randomUUID(),
    number: store.series.salesInvoice.next(),
    externalDocumentNumber,
    invoiceDate: today,
    postingDate: today,
    dueDate: addDays(today, daysOf(terms?.dueDateCalculation ?? '')),
    customerPurchaseOrderReference: crossdockChannel === 'EDI' ? externalDocumentNumber : '',
    orderId: updated.id,
    orderNumber: updated.number,
    remainingAmount: money(totalCents),
    discountAmount: 0,
    totalAmountExcludingTax: money(totalCents),
    totalTaxAmount: 0,
    totalAmountIncludingTax: money(totalCents),
    status: 'Open',
    lastModifiedDateTime: stamp,
  };
  return store.salesInvoices.upsert(invoice);
}

/** The customer entity type's name for `blocked`, in BC's error texts. */
const BLOCKED_TYPE = 'Microsoft.NAV.customerBlocked';

/**
 * `PATCH customers({id})` under `If-Match`: the sandbox writes `blocked` alone. Returns the
 * customer (with a new etag) and its `blocked` before the change.
 */
export function patchCustomer(
  context: WriteContext,
  id: string,
  ifMatch: string | undefined,
  body: unknown,
): { readonly entity: Entity<CustomerRow>; readonly previousBlocked: string } {
  const { store } = context;
  const customer = store.customers.byId(id);
  if (!customer) throw notFound('customers');
  checkIfMatch(customer.etag, ifMatch);
  const spec: BodySpec = {
    shape: store.customers.shape,
    writable: set('blocked'),
    readOnly: set(),
    deep: {},
  };
  const { fields } = readBody(body, spec, 'customers');
  const blocked = fields.get('blocked');
  const previousBlocked = customer.row.blocked;
  if (blocked === undefined) return { entity: customer, previousBlocked };
  if (!isCustomerBlocked(blocked)) {
    throw new ODataError(
      400,
      'BadRequest_InvalidToken',
      `Cannot convert the literal '${JSON.stringify(blocked)}' to the expected type '${BLOCKED_TYPE}' (one of ${CUSTOMER_BLOCKED.map((o) => `'${o}'`).join(', ')}).`,
    );
  }
  const entity = store.customers.upsert({
    ...customer.row,
    blocked,
    lastModifiedDateTime: new Date(context.now()).toISOString(),
  });
  return { entity, previousBlocked };
}
