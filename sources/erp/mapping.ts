/**
 * Business Central's native shapes (zod schemas of what the connector reads) and their
 * mapping to Crossdock's canonical records. BC serialises Edm.Decimal as a JSON number; amounts
 * become two-place decimal strings by string arithmetic on that number's shortest decimal
 * form, never by float arithmetic.
 */
import { z } from 'zod';
import type {
  AddressRecord,
  CatalogItemRecord,
  ReturnDraft,
  SalesOrderDraft,
  CustomerBlock,
  CustomerPriceRecord,
  CustomerRecord,
  ErpOrderStatus,
  InvoiceRecord,
  InvoiceStatus,
  MoneyRecord,
  OrderLineRecord,
  OrderRecord,
} from '../contract.js';

/** The page schema of each item schema: zod compiles a schema on its first parse, so one is kept. */
const pages = new WeakMap<z.ZodType, z.ZodType>();

/** An OData collection page: `value` plus an optional `@odata.nextLink`. Made once per item schema. */
export function pageOf<S extends z.ZodType>(item: S) {
  const make = () => z.object({ value: z.array(item), '@odata.nextLink': z.string().optional() });
  let page = pages.get(item) as ReturnType<typeof make> | undefined;
  if (!page) {
    page = make();
    pages.set(item, page);
  }
  return page;
}

/** `items`, the fields the connector selects. */
export const NativeItem = z.object({
  id: z.string(),
  number: z.string(),
  displayName: z.string(),
  itemCategoryCode: z.string(),
  blocked: z.boolean(),
  gtin: z.string(),
  unitPrice: z.number(),
  baseUnitOfMeasureCode: z.string(),
  lastModifiedDateTime: z.string(),
});
/** A native item. */
export type NativeItem = z.output<typeof NativeItem>;

/** BC's customer `blocked` option values. */
export const BC_BLOCKED = [' ', 'Ship', 'Invoice', 'All'] as const;
/** One BC customer `blocked` value. */
export type BcBlocked = (typeof BC_BLOCKED)[number];

const CUSTOMER_FIELDS = {
  id: z.string(),
  number: z.string(),
  displayName: z.string(),
  type: z.enum(['Company', 'Person']),
  addressLine1: z.string(),
  addressLine2: z.string(),
  city: z.string(),
  state: z.string(),
  country: z.string(),
  postalCode: z.string(),
  phoneNumber: z.string(),
  email: z.string(),
  currencyCode: z.string(),
  creditLimit: z.number(),
  balanceDue: z.number(),
  blocked: z.enum(BC_BLOCKED),
  lastModifiedDateTime: z.string(),
};

/** `customers` with `$expand=paymentTerm` (null when the customer has no terms). */
export const NativeCustomer = z.object({
  ...CUSTOMER_FIELDS,
  paymentTerm: z.object({ code: z.string() }).nullable().optional(),
});
/** A native customer. */
export type NativeCustomer = z.output<typeof NativeCustomer>;
/** The customer fields the connector `$select`s. */
export const CUSTOMER_SELECT: readonly string[] = Object.keys(CUSTOMER_FIELDS);

/** Custom API `customerPriceGroups`. */
export const NativeCustomerPriceGroup = z.object({
  customerNumber: z.string(),
  priceGroupCode: z.string(),
});
/** A native customer price group assignment. */
export type NativeCustomerPriceGroup = z.output<typeof NativeCustomerPriceGroup>;

/** Custom API `customerPrices`. */
export const NativeCustomerPrice = z.object({
  customerNumber: z.string(),
  itemNumber: z.string(),
  priceGroupCode: z.string(),
  discountPercent: z.number(),
  unitPrice: z.number(),
  currencyCode: z.string().optional(),
});
/** A native customer price. */
export type NativeCustomerPrice = z.output<typeof NativeCustomerPrice>;

/** `salesOrderLines`. */
export const NativeSalesOrderLine = z.object({
  sequence: z.number().int(),
  lineType: z.string(),
  lineObjectNumber: z.string(),
  description: z.string(),
  quantity: z.number(),
  unitPrice: z.number(),
  amountExcludingTax: z.number(),
  shippedQuantity: z.number(),
  invoicedQuantity: z.number(),
});
/** A native sales order line. */
export type NativeSalesOrderLine = z.output<typeof NativeSalesOrderLine>;

const SALES_ORDER_FIELDS = {
  id: z.string(),
  number: z.string(),
  externalDocumentNumber: z.string(),
  orderDate: z.string(),
  customerNumber: z.string(),
  shipToName: z.string(),
  shipToAddressLine1: z.string(),
  shipToAddressLine2: z.string(),
  shipToCity: z.string(),
  shipToState: z.string(),
  shipToPostCode: z.string(),
  shipToCountry: z.string(),
  currencyCode: z.string(),
  totalAmountExcludingTax: z.number(),
  totalAmountIncludingTax: z.number(),
  fullyShipped: z.boolean(),
  status: z.enum(['Draft', 'In Review', 'Open']),
  lastModifiedDateTime: z.string(),
  /** Partner table-extension field; BC itself has no channel. */
  crossdockChannel: z.string(),
};

/** `salesOrders` with `$expand=salesOrderLines`. */
export const NativeSalesOrder = z.object({
  ...SALES_ORDER_FIELDS,
  salesOrderLines: z.array(NativeSalesOrderLine),
});
/** A native sales order with its lines. */
export type NativeSalesOrder = z.output<typeof NativeSalesOrder>;
/** The order header fields the connector `$select`s. */
export const SALES_ORDER_SELECT: readonly string[] = Object.keys(SALES_ORDER_FIELDS);

/** A sales order with the `@odata.etag` its `If-Match` needs (the cancel path). */
export const NativeSalesOrderWithEtag = NativeSalesOrder.extend({ '@odata.etag': z.string() });
/** A native sales order with its etag. */
export type NativeSalesOrderWithEtag = z.output<typeof NativeSalesOrderWithEtag>;

/** `salesCreditMemos`, the fields the return path reads. */
export const NativeSalesCreditMemo = z.object({
  id: z.string(),
  number: z.string(),
  externalDocumentNumber: z.string(),
  customerNumber: z.string(),
});
/** A native sales credit memo header. */
export type NativeSalesCreditMemo = z.output<typeof NativeSalesCreditMemo>;

/** `salesInvoices`. */
export const NativeSalesInvoice = z.object({
  id: z.string(),
  number: z.string(),
  orderNumber: z.string(),
  customerNumber: z.string(),
  status: z.enum([' ', 'Draft', 'In Review', 'Open', 'Paid', 'Canceled', 'Corrective']),
  invoiceDate: z.string(),
  dueDate: z.string(),
  currencyCode: z.string(),
  totalAmountIncludingTax: z.number(),
  remainingAmount: z.number(),
});
/** A native sales invoice. */
export type NativeSalesInvoice = z.output<typeof NativeSalesInvoice>;

/** The fields of a native schema, for `$select`. */
export function fieldsOf(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape);
}

/** Entra's token answer (`expires_in` was a string in the v1 endpoint). */
export const TokenResponse = z.object({
  token_type: z.string(),
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]),
});

/** BC's error body. */
export const BcErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Any body (a 204's empty one included): what a DELETE answers. */
export const AnyBody = z.unknown();

/** A BC error with its message and the correlation id BC appends to it, split apart. */
export interface BcError {
  readonly code: string;
  readonly message: string;
  readonly correlationId: string | null;
}

/** The BC error of a 4xx body (`null` when the body is not BC's), CorrelationId split off. */
export function bcErrorOf(body: unknown): BcError | null {
  const parsed = BcErrorBody.safeParse(body);
  if (!parsed.success) return null;
  const { code, message } = parsed.data.error;
  // BC appends "  CorrelationId:  <guid>." to every message (two spaces each side of the label).
  const match = /^([\s\S]*?)\s+CorrelationId:\s+([0-9a-fA-F-]+)\.?$/.exec(message);
  return match
    ? { code, message: match[1] ?? '', correlationId: match[2] ?? null }
    : { code, message, correlationId: null };
}

/**
 * BC keeps `External Document No.` (and every other Code field) upper-cased and at most 35
 * characters long; the connector writes and looks the value up in that form.
 */
export function bcCode(value: string): string {
  return value.toUpperCase();
}

const DECIMAL_PRICE = /^\d{1,10}(?:\.\d{1,5})?$/;

/**
 * A canonical decimal string as the JSON number BC reads for an Edm.Decimal, or `undefined`
 * when it is not a plain non-negative decimal of at most 15 digits (which a double holds exactly
 * in its shortest form, so `"19.99"` travels as `19.99`).
 */
export function decimalToNumber(value: string): number | undefined {
  return DECIMAL_PRICE.test(value) ? Number(value) : undefined;
}

/** The deep-insert body of `POST salesOrders` for a draft (prices already checked). */
export function salesOrderBody(
  draft: SalesOrderDraft,
  unitPrices: readonly number[],
): Record<string, unknown> {
  const a = draft.shipTo;
  return {
    externalDocumentNumber: bcCode(draft.externalDocumentNumber),
    customerNumber: draft.customerNumber,
    orderDate: draft.orderDate,
    currencyCode: draft.currencyCode,
    crossdockChannel: draft.channel,
    shipToName: a.name ?? '',
    shipToAddressLine1: a.line1,
    shipToAddressLine2: a.line2 ?? '',
    shipToCity: a.city,
    shipToState: a.region ?? '',
    shipToPostCode: a.postalCode,
    shipToCountry: a.countryCode,
    salesOrderLines: draft.lines.map((line, i) => ({
      lineType: 'Item',
      lineObjectNumber: line.sku,
      quantity: line.quantity,
      unitPrice: unitPrices[i],
    })),
  };
}

/** The deep-insert body of `POST salesCreditMemos` for a return; BC prices the lines. */
export function creditMemoBody(draft: ReturnDraft): Record<string, unknown> {
  return {
    externalDocumentNumber: bcCode(draft.reference),
    customerNumber: draft.customerNumber,
    salesCreditMemoLines: draft.lines.map((line) => ({
      lineType: 'Item',
      lineObjectNumber: line.sku,
      quantity: line.quantity,
    })),
  };
}

/**
 * A BC decimal (a JSON number) as a two-place decimal string, rounded half away from zero.
 * Works on the number's shortest round-trip decimal form, so 19.99 stays "19.99".
 */
export function toDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`expected a finite decimal, got ${value}`);
  let text = String(Math.abs(value));
  // Exponent forms (1e-7, 1e21) only; toFixed(20) is exact enough for such amounts.
  if (/e/i.test(text)) text = Math.abs(value).toFixed(20);
  const [whole = '0', fraction = ''] = text.split('.');
  const padded = fraction.padEnd(3, '0');
  let units = BigInt(whole + padded.slice(0, 2));
  if (Number(padded[2]) >= 5) units += 1n;
  const sign = value < 0 && units !== 0n ? '-' : '';
  const digits = units.toString().padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** A money record from a BC decimal and currency code. */
export function toMoney(value: number, currencyCode: string): MoneyRecord {
  return { amount: toDecimal(value), currencyCode };
}

const orNull = (value: string): string | null => (value.trim() === '' ? null : value);

/** Maps BC's customer `blocked` option to the canonical block. */
export function customerBlockOf(blocked: BcBlocked): CustomerBlock {
  switch (blocked) {
    case ' ':
      return 'NONE';
    case 'Ship':
      return 'SHIP';
    case 'Invoice':
      return 'INVOICE';
    case 'All':
      return 'ALL';
    default:
      return unreachable(blocked);
  }
}

/** The BC `blocked` value of a canonical block (for `$filter`). */
export function bcBlockedOf(block: CustomerBlock): BcBlocked {
  switch (block) {
    case 'NONE':
      return ' ';
    case 'SHIP':
      return 'Ship';
    case 'INVOICE':
      return 'Invoice';
    case 'ALL':
      return 'All';
    default:
      return unreachable(block);
  }
}

/** Maps a BC sales order status. */
export function orderStatusOf(status: NativeSalesOrder['status']): ErpOrderStatus {
  switch (status) {
    case 'Draft':
      return 'DRAFT';
    case 'In Review':
      return 'IN_REVIEW';
    case 'Open':
      return 'OPEN';
    default:
      return unreachable(status);
  }
}

/** Maps a BC sales invoice status. */
export function invoiceStatusOf(status: NativeSalesInvoice['status']): InvoiceStatus {
  switch (status) {
    case ' ':
    case 'Draft':
    case 'In Review':
      return 'DRAFT';
    case 'Open':
      return 'OPEN';
    case 'Paid':
      return 'PAID';
    // A corrective credit memo reverses the invoice as a cancellation does.
    case 'Canceled':
    case 'Corrective':
      return 'CANCELLED';
    default:
      return unreachable(status);
  }
}

/** Maps a native item; item prices are in the local currency (BC items carry no currency). */
export function toCatalogItem(item: NativeItem, localCurrency: string): CatalogItemRecord {
  return {
    sku: item.number,
    erpId: item.id,
    displayName: item.displayName,
    category: orNull(item.itemCategoryCode),
    gtin: orNull(item.gtin),
    baseUnitOfMeasure: item.baseUnitOfMeasureCode,
    listPrice: toMoney(item.unitPrice, localCurrency),
    blocked: item.blocked,
    lastModified: item.lastModifiedDateTime,
  };
}

/** Maps a native customer plus its price group from the pricing API. BC writes '' for LCY. */
export function toCustomer(
  customer: NativeCustomer,
  priceGroup: string | null,
  localCurrency: string,
): CustomerRecord {
  const currencyCode = orNull(customer.currencyCode) ?? localCurrency;
  const address: AddressRecord = {
    name: customer.displayName,
    line1: customer.addressLine1,
    line2: orNull(customer.addressLine2),
    city: customer.city,
    region: orNull(customer.state),
    postalCode: customer.postalCode,
    countryCode: customer.country,
  };
  return {
    number: customer.number,
    erpId: customer.id,
    name: customer.displayName,
    type: customer.type === 'Company' ? 'COMPANY' : 'PERSON',
    email: orNull(customer.email),
    phone: orNull(customer.phoneNumber),
    address,
    currencyCode,
    paymentTermsCode: customer.paymentTerm ? orNull(customer.paymentTerm.code) : null,
    creditLimit: toMoney(customer.creditLimit, currencyCode),
    balanceDue: toMoney(customer.balanceDue, currencyCode),
    blocked: customerBlockOf(customer.blocked),
    priceGroup,
    lastModified: customer.lastModifiedDateTime,
  };
}

/** Maps a native customer price. */
export function toCustomerPrice(
  price: NativeCustomerPrice,
  localCurrency: string,
): CustomerPriceRecord {
  return {
    sku: price.itemNumber,
    customerNumber: price.customerNumber,
    priceGroup: orNull(price.priceGroupCode),
    unitPrice: toMoney(price.unitPrice, orNull(price.currencyCode ?? '') ?? localCurrency),
    discountPercent: price.discountPercent,
  };
}

/** Maps the item lines of an order (comment, account and other line types carry no SKU). */
function toOrderLines(
  lines: readonly NativeSalesOrderLine[],
  currencyCode: string,
): OrderLineRecord[] {
  return lines
    .filter((line) => line.lineType === 'Item')
    .sort((a, b) => a.sequence - b.sequence)
    .map((line) => ({
      sequence: line.sequence,
      sku: line.lineObjectNumber,
      description: line.description,
      quantity: line.quantity,
      unitPrice: toMoney(line.unitPrice, currencyCode),
      lineAmount: toMoney(line.amountExcludingTax, currencyCode),
      shippedQuantity: line.shippedQuantity,
      invoicedQuantity: line.invoicedQuantity,
    }));
}

/** Maps a native sales order with its expanded lines. */
export function toOrder(order: NativeSalesOrder, localCurrency: string): OrderRecord {
  const currencyCode = orNull(order.currencyCode) ?? localCurrency;
  return {
    number: order.number,
    erpId: order.id,
    channel: order.crossdockChannel,
    customerNumber: order.customerNumber,
    externalReference: orNull(order.externalDocumentNumber),
    orderDate: order.orderDate,
    erpStatus: orderStatusOf(order.status),
    fullyShipped: order.fullyShipped,
    shipTo: {
      name: orNull(order.shipToName),
      line1: order.shipToAddressLine1,
      line2: orNull(order.shipToAddressLine2),
      city: order.shipToCity,
      region: orNull(order.shipToState),
      postalCode: order.shipToPostCode,
      countryCode: order.shipToCountry,
    },
    currencyCode,
    totalExcludingTax: toMoney(order.totalAmountExcludingTax, currencyCode),
    totalIncludingTax: toMoney(order.totalAmountIncludingTax, currencyCode),
    lines: toOrderLines(order.salesOrderLines, currencyCode),
    lastModified: order.lastModifiedDateTime,
  };
}

/** Maps a native sales invoice. */
export function toInvoice(invoice: NativeSalesInvoice, localCurrency: string): InvoiceRecord {
  const currencyCode = orNull(invoice.currencyCode) ?? localCurrency;
  return {
    number: invoice.number,
    erpId: invoice.id,
    orderNumber: orNull(invoice.orderNumber),
    customerNumber: invoice.customerNumber,
    status: invoiceStatusOf(invoice.status),
    invoiceDate: invoice.invoiceDate,
    dueDate: invoice.dueDate,
    total: toMoney(invoice.totalAmountIncludingTax, currencyCode),
    remaining: toMoney(invoice.remainingAmount, currencyCode),
  };
}

function unreachable(value: never): never {
  throw new Error(`unreachable case: ${JSON.stringify(value)}`);
}
