/**
 * The sandbox ERP's in-memory company: every entity set built from the seed world, in BC's
 * field names. Tables are mutable (keyed by id and number): `writes.ts` creates and deletes
 * sales orders and creates sales credit memos through them, drawing numbers from the series here.
 *
 * Money is kept in integer cents by the seed and only turned into JSON numbers here: an
 * integer divided by 100 is the double nearest the two-place decimal, so it prints exactly.
 */
import { PRICE_GROUPS, stableGuid, type SeedOrder, type SeedWorld } from '../seed.js';
import {
  COMPANY_FIELDS,
  CUSTOMER_FIELDS,
  CUSTOMER_PRICE_FIELDS,
  CUSTOMER_PRICE_GROUP_FIELDS,
  ITEM_FIELDS,
  LOCATION_FIELDS,
  PAYMENT_TERM_FIELDS,
  SALES_CREDIT_MEMO_FIELDS,
  SALES_CREDIT_MEMO_LINE_FIELDS,
  SALES_INVOICE_FIELDS,
  SALES_ORDER_FIELDS,
  SALES_ORDER_LINE_FIELDS,
  shapeOf,
  type CompanyRow,
  type CustomerPriceGroupRow,
  type CustomerPriceRow,
  type CustomerRow,
  type ItemRow,
  type LocationRow,
  type PaymentTermRow,
  type SalesCreditMemoLineRow,
  type SalesCreditMemoRow,
  type SalesInvoiceRow,
  type SalesOrderLineRow,
  type SalesOrderRow,
} from './entities.js';
import { ODataError } from './errors.js';
import { pinnedKeys, type FilterNode } from './filter.js';
import {
  EMPTY_GUID,
  Table,
  etagOf,
  ordinal,
  type Entity,
  type EntitySet,
  type VersionClock,
} from './table.js';

/** Identity of the one sandbox company. */
export interface CompanyIdentity {
  readonly id: string;
  readonly name: string;
}

/** Every entity set of the sandbox company. */
export interface ErpStore {
  readonly company: CompanyIdentity;
  readonly companies: Table<CompanyRow>;
  readonly items: Table<ItemRow>;
  readonly customers: Table<CustomerRow>;
  readonly paymentTerms: Table<PaymentTermRow>;
  readonly salesOrders: Table<SalesOrderRow>;
  readonly salesOrderLines: EntitySet;
  readonly salesInvoices: Table<SalesInvoiceRow>;
  readonly locations: Table<LocationRow>;
  readonly salesCreditMemos: Table<SalesCreditMemoRow>;
  readonly customerPrices: EntitySet;
  readonly customerPriceGroups: Table<CustomerPriceGroupRow>;
  /** Lines of each order, by the order's id (lower case), in sequence order. */
  readonly linesByOrder: Map<string, Entity<SalesOrderLineRow>[]>;
  /** Every order line, by its id (lower case). */
  readonly lineById: Map<string, Entity<SalesOrderLineRow>>;
  /** Lines of each credit memo, by the credit memo's id (lower case), in sequence order. */
  readonly creditMemoLines: Map<string, Entity<SalesCreditMemoLineRow>[]>;
  /** The version clock every etag of the company is stamped from. */
  readonly version: VersionClock;
  /** Number series of the documents the API creates. */
  readonly series: {
    readonly salesOrder: NumberSeries;
    readonly salesCreditMemo: NumberSeries;
    /** Posted sales invoices (`PSI-`), continuing after the seeded ones. */
    readonly salesInvoice: NumberSeries;
  };
}

/**
 * A BC number series: a prefix and a counter. A number is never handed out twice, even when its
 * document is deleted afterwards (BC's "No. Series" with no gaps allowed off, the default).
 */
export class NumberSeries {
  readonly prefix: string;
  private last: number;
  private readonly width: number;

  /** A series whose next number follows the highest `prefix<digits>` among `taken`, or `start`. */
  constructor(prefix: string, taken: Iterable<string>, start: number) {
    this.prefix = prefix;
    let last = start - 1;
    let width = String(start).length;
    for (const number of taken) {
      const digits = number.startsWith(prefix) ? number.slice(prefix.length) : '';
      if (!/^\d{1,15}$/.test(digits)) continue;
      last = Math.max(last, Number(digits));
      width = Math.max(width, digits.length);
    }
    this.last = last;
    this.width = width;
  }

  /** Hands out the next number. */
  next(): string {
    this.last++;
    return `${this.prefix}${String(this.last).padStart(this.width, '0')}`;
  }
}

/** First number of the posted sales invoice series when nothing was seeded (`PSI-200001`). */
export const FIRST_INVOICE_NUMBER = 200_001;

/** First number of the sales credit memo series (`SCM-100001`). */
export const FIRST_CREDIT_MEMO_NUMBER = 100_001;

const money = (cents: number): number => cents / 100;
/** Back to integer cents from a two-place JSON number (the rounding only removes binary noise). */
const centsOf = (amount: number): number => Math.round(amount * 100);

/** BC's date formula of each seeded payment terms code, in days. */
const TERMS: Readonly<
  Record<string, { due: number; discountDays: number; discountPercent: number; name: string }>
> = {
  NET30: { due: 30, discountDays: 0, discountPercent: 0, name: 'Net 30 days' },
  NET60: { due: 60, discountDays: 0, discountPercent: 0, name: 'Net 60 days' },
  '2%10NET30': {
    due: 30,
    discountDays: 10,
    discountPercent: 2,
    name: '2 % for 10 days, net 30 days',
  },
  COD: { due: 0, discountDays: 0, discountPercent: 0, name: 'Cash on delivery' },
};

const dateOnly = (iso: string): string => iso.slice(0, 10);
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
/** BC's blank date. */
const BLANK_DATE = '0001-01-01';

/** Builds the sandbox company from the seed world (a couple of seconds for 100k items). */
export function buildErpStore(world: SeedWorld, company: CompanyIdentity): ErpStore {
  let version = 0;
  const clock: VersionClock = () => ++version;
  const epochMs = Date.parse(world.epoch);

  const companies = new Table<CompanyRow>(
    'companies',
    shapeOf('company', COMPANY_FIELDS),
    'id',
    clock,
  );
  companies.load([
    {
      id: company.id,
      systemVersion: '27.0.38460.0',
      timestamp: 1,
      name: company.name,
      displayName: company.name,
      businessProfileId: '',
      systemCreatedAt: world.epoch,
      systemCreatedBy: EMPTY_GUID,
      systemModifiedAt: world.epoch,
      systemModifiedBy: EMPTY_GUID,
    },
  ]);

  const onHand = new Map<string, number>();
  for (const s of world.stock) onHand.set(s.sku, (onHand.get(s.sku) ?? 0) + s.onHand);
  const items = new Table<ItemRow>('items', shapeOf('item', ITEM_FIELDS), 'number', clock);
  const guid = memoGuid();
  items.load(
    world.products.map((p) => ({
      id: stableGuid(`item:${p.sku}`),
      number: p.sku,
      displayName: p.name,
      displayName2: '',
      type: 'Inventory',
      itemCategoryId: guid(`itemCategory:${p.category}`),
      itemCategoryCode: p.category,
      blocked: p.blocked,
      gtin: p.gtin,
      inventory: onHand.get(p.sku) ?? 0,
      unitPrice: money(p.priceCents),
      priceIncludesTax: false,
      unitCost: money(p.costCents),
      taxGroupId: guid('taxGroup:TAXABLE'),
      taxGroupCode: 'TAXABLE',
      baseUnitOfMeasureId: guid(`uom:${p.unitOfMeasure}`),
      baseUnitOfMeasureCode: p.unitOfMeasure,
      generalProductPostingGroupId: guid('gppg:RETAIL'),
      generalProductPostingGroupCode: 'RETAIL',
      inventoryPostingGroupId: guid('ipg:RESALE'),
      inventoryPostingGroupCode: 'RESALE',
      lastModifiedDateTime: new Date(epochMs - (p.index % 10_000) * 60_000).toISOString(),
    })),
  );

  const paymentTerms = new Table<PaymentTermRow>(
    'paymentTerms',
    shapeOf('paymentTerm', PAYMENT_TERM_FIELDS),
    'code',
    clock,
  );
  paymentTerms.load(
    Object.entries(TERMS).map(([code, t]) => ({
      id: stableGuid(`paymentTerms:${code}`),
      code,
      displayName: t.name,
      dueDateCalculation: `${t.due}D`,
      discountDateCalculation: t.discountDays > 0 ? `${t.discountDays}D` : '',
      discountPercent: t.discountPercent,
      calculateDiscountOnCreditMemos: false,
      lastModifiedDateTime: world.epoch,
    })),
  );

  const customers = new Table<CustomerRow>(
    'customers',
    shapeOf('customer', CUSTOMER_FIELDS),
    'number',
    clock,
  );
  customers.load(
    world.customers.map((c, i) => ({
      id: stableGuid(`customer:${c.number}`),
      number: c.number,
      displayName: c.name,
      type: c.type,
      addressLine1: c.address.line1,
      addressLine2: '',
      city: c.address.city,
      state: c.address.state,
      country: c.address.country,
      postalCode: c.address.postalCode,
      phoneNumber: c.phone,
      email: c.email,
      website: '',
      salespersonCode: '',
      balanceDue: money(c.balanceDueCents),
      creditLimit: money(c.creditLimitCents),
      taxLiable: false,
      taxAreaId: EMPTY_GUID,
      taxAreaDisplayName: '',
      taxRegistrationNumber: '',
      currencyId: EMPTY_GUID,
      currencyCode: world.currencyCode,
      paymentTermsId: stableGuid(`paymentTerms:${c.paymentTerms}`),
      shipmentMethodId: EMPTY_GUID,
      paymentMethodId: EMPTY_GUID,
      blocked: c.blocked,
      lastModifiedDateTime: new Date(epochMs - (i + 1) * 3_600_000).toISOString(),
    })),
  );
  customers.navigations['paymentTerm'] = {
    shape: paymentTerms.shape,
    collection: false,
    related: (parent) => {
      const term = paymentTerms.byId(String(parent.row['paymentTermsId']));
      return term ? [term] : [];
    },
  };

  const customerPriceGroups = new Table<CustomerPriceGroupRow>(
    'customerPriceGroups',
    shapeOf('customerPriceGroup', CUSTOMER_PRICE_GROUP_FIELDS),
    'customerNumber',
    clock,
  );
  customerPriceGroups.load(
    world.customers.map((c) => ({
      id: stableGuid(`customerPriceGroup:${c.number}`),
      customerNumber: c.number,
      priceGroupCode: c.priceGroup,
      discountPercent: PRICE_GROUPS[c.priceGroup] ?? 0,
    })),
  );

  const locations = new Table<LocationRow>(
    'locations',
    shapeOf('location', LOCATION_FIELDS),
    'code',
    clock,
  );
  locations.load(
    world.warehouses.map((w) => ({
      id: stableGuid(`location:${w.code}`),
      code: w.code,
      displayName: w.name,
      contact: '',
      addressLine1: w.address.address1,
      addressLine2: '',
      city: w.address.city,
      state: w.address.state,
      country: w.address.country,
      postalCode: w.address.zip,
      phoneNumber: '',
      email: '',
      website: '',
      lastModifiedDateTime: world.epoch,
    })),
  );

  const productBySku = new Map(world.products.map((p) => [p.sku, p]));
  const customerByNumber = new Map(world.customers.map((c) => [c.number, c]));
  const linesByOrder = new Map<string, Entity<SalesOrderLineRow>[]>();
  const lineById = new Map<string, Entity<SalesOrderLineRow>>();
  const orderRows: SalesOrderRow[] = [];
  const invoiceRows: SalesInvoiceRow[] = [];
  let invoiceCount = 0;

  for (const order of world.orders) {
    const customer = customerByNumber.get(order.customerNumber);
    if (!customer)
      throw new Error(`order ${order.number}: unknown customer ${order.customerNumber}`);
    const orderId = stableGuid(`salesOrder:${order.number}`);
    const orderDate = dateOnly(order.orderDate);
    let totalCents = 0;
    const lines: Entity<SalesOrderLineRow>[] = [];
    for (const line of order.lines) {
      const product = productBySku.get(line.sku);
      const amountCents = line.unitPriceCents * line.quantity;
      totalCents += amountCents;
      const row: SalesOrderLineRow = {
        id: stableGuid(`salesOrderLine:${order.number}:${line.sequence}`),
        documentId: orderId,
        sequence: line.sequence,
        itemId: stableGuid(`item:${line.sku}`),
        accountId: EMPTY_GUID,
        lineType: 'Item',
        lineObjectNumber: line.sku,
        description: product?.name ?? line.sku,
        description2: '',
        unitOfMeasureId: stableGuid(`uom:${product?.unitOfMeasure ?? 'EA'}`),
        unitOfMeasureCode: product?.unitOfMeasure ?? 'EA',
        quantity: line.quantity,
        unitPrice: money(line.unitPriceCents),
        discountAmount: 0,
        discountPercent: 0,
        discountAppliedBeforeTax: false,
        amountExcludingTax: money(amountCents),
        taxCode: '',
        taxPercent: 0,
        totalTaxAmount: 0,
        amountIncludingTax: money(amountCents),
        invoiceDiscountAllocation: 0,
        netAmount: money(amountCents),
        netTaxAmount: 0,
        netAmountIncludingTax: money(amountCents),
        shipmentDate: order.shippedAt ? dateOnly(order.shippedAt) : orderDate,
        shippedQuantity: line.shippedQuantity,
        invoicedQuantity: line.invoicedQuantity,
        invoiceQuantity: line.shippedQuantity - line.invoicedQuantity,
        shipQuantity: line.quantity - line.shippedQuantity,
        itemVariantId: EMPTY_GUID,
        locationId: stableGuid(`location:${order.warehouse}`),
      };
      const entity: Entity<SalesOrderLineRow> = { row, etag: etagOf(row.id, clock()) };
      lines.push(entity);
      lineById.set(row.id, entity);
    }
    linesByOrder.set(orderId, lines);

    const party = partyOf(order, customer, totalCents, world.currencyCode);
    orderRows.push({
      id: orderId,
      number: order.number,
      externalDocumentNumber: order.externalReference ?? '',
      orderDate,
      postingDate:
        order.stage === 'INVOICED' && order.shippedAt ? dateOnly(order.shippedAt) : orderDate,
      requestedDeliveryDate: BLANK_DATE,
      partialShipping: true,
      fullyShipped: order.lines.every((l) => l.shippedQuantity >= l.quantity),
      ...party,
      // BC: a sales order is Draft until released; released orders are Open (there is no
      // shipped or invoiced header status).
      status: order.stage === 'OPEN' ? 'Draft' : 'Open',
      lastModifiedDateTime: order.shippedAt ?? order.orderDate,
      crossdockChannel: order.channel,
    });

    if (order.invoiceNumber) {
      invoiceCount++;
      const invoiceDate = dateOnly(order.shippedAt ?? order.orderDate);
      const paid = invoiceCount % 3 === 0;
      const terms = TERMS[customer.paymentTerms];
      invoiceRows.push({
        id: stableGuid(`salesInvoice:${order.invoiceNumber}`),
        number: order.invoiceNumber,
        externalDocumentNumber: order.externalReference ?? '',
        invoiceDate,
        postingDate: invoiceDate,
        dueDate: addDays(invoiceDate, terms?.due ?? 0),
        customerPurchaseOrderReference:
          order.channel === 'EDI' ? (order.externalReference ?? '') : '',
        orderId,
        orderNumber: order.number,
        remainingAmount: paid ? 0 : money(totalCents),
        ...party,
        status: paid ? 'Paid' : 'Open',
        lastModifiedDateTime: `${invoiceDate}T18:00:00.000Z`,
      });
    }
  }

  const salesOrders = new Table<SalesOrderRow>(
    'salesOrders',
    shapeOf('salesOrder', SALES_ORDER_FIELDS),
    'number',
    clock,
    // Crossdock looks every order it posts up by its own id first (the duplicate check).
    ['externalDocumentNumber'],
  );
  salesOrders.load(orderRows);
  const lineShape = shapeOf('salesOrderLine', SALES_ORDER_LINE_FIELDS);
  salesOrders.navigations['salesOrderLines'] = {
    shape: lineShape,
    collection: true,
    related: (parent) => linesByOrder.get(String(parent.row['id']).toLowerCase()) ?? [],
  };
  const salesInvoices = new Table<SalesInvoiceRow>(
    'salesInvoices',
    shapeOf('salesInvoice', SALES_INVOICE_FIELDS),
    'number',
    clock,
  );
  salesInvoices.load(invoiceRows);

  const salesCreditMemos = new Table<SalesCreditMemoRow>(
    'salesCreditMemos',
    shapeOf('salesCreditMemo', SALES_CREDIT_MEMO_FIELDS),
    'number',
    clock,
  );
  const creditMemoLines = new Map<string, Entity<SalesCreditMemoLineRow>[]>();
  salesCreditMemos.navigations['salesCreditMemoLines'] = {
    shape: shapeOf('salesCreditMemoLine', SALES_CREDIT_MEMO_LINE_FIELDS),
    collection: true,
    related: (parent) => creditMemoLines.get(String(parent.row['id']).toLowerCase()) ?? [],
  };

  const salesOrderLines: EntitySet = {
    name: 'salesOrderLines',
    shape: lineShape,
    naturalOrder: ['documentId', 'sequence'],
    navigations: {},
    byId: (id) => lineById.get(id.toLowerCase()),
    *candidates(filter) {
      const ids = pinnedKeys(filter, 'id');
      if (ids) {
        for (const id of ids) {
          const line = lineById.get(id);
          if (line) yield line;
        }
        return;
      }
      const documents = pinnedKeys(filter, 'documentId');
      if (!documents) {
        // The API page refuses to list every line of the company (AL: SalesOrderLines page).
        throw new ODataError(
          400,
          'BadRequest_RequiredParamNotProvided',
          "You must specify an Id or a Document Id to get the lines: expected a $filter with 'documentId eq <guid>' or 'id eq <guid>'.",
        );
      }
      for (const id of [...new Set(documents)].sort(ordinal)) yield* linesByOrder.get(id) ?? [];
    },
  };

  return {
    company,
    companies,
    items,
    customers,
    paymentTerms,
    salesOrders,
    salesOrderLines,
    salesInvoices,
    locations,
    salesCreditMemos,
    customerPrices: customerPriceSet(items, customerPriceGroups, world.currencyCode),
    customerPriceGroups,
    linesByOrder,
    lineById,
    creditMemoLines,
    version: clock,
    series: {
      salesOrder: new NumberSeries(
        'SO-',
        orderRows.map((row) => row.number),
        100_001,
      ),
      salesCreditMemo: new NumberSeries('SCM-', [], FIRST_CREDIT_MEMO_NUMBER),
      salesInvoice: new NumberSeries(
        'PSI-',
        invoiceRows.map((row) => row.number),
        FIRST_INVOICE_NUMBER,
      ),
    },
  };
}

/** `stableGuid` remembered, for the few reference ids repeated on every one of 100k rows. */
function memoGuid(): (name: string) => string {
  const known = new Map<string, string>();
  return (name) => {
    let id = known.get(name);
    if (id === undefined) {
      id = stableGuid(name);
      known.set(name, id);
    }
    return id;
  };
}

type Party = Pick<
  SalesOrderRow,
  Exclude<
    keyof SalesInvoiceRow & keyof SalesOrderRow,
    'id' | 'number' | 'externalDocumentNumber' | 'postingDate' | 'status' | 'lastModifiedDateTime'
  >
>;

function partyOf(
  order: SeedOrder,
  customer: SeedWorld['customers'][number],
  totalCents: number,
  currencyCode: string,
): Party {
  const a = customer.address;
  const customerId = stableGuid(`customer:${customer.number}`);
  return {
    customerId,
    customerNumber: customer.number,
    customerName: customer.name,
    billToName: customer.name,
    billToCustomerId: customerId,
    billToCustomerNumber: customer.number,
    shipToName: customer.name,
    shipToContact: '',
    sellToAddressLine1: a.line1,
    sellToAddressLine2: '',
    sellToCity: a.city,
    sellToCountry: a.country,
    sellToState: a.state,
    sellToPostCode: a.postalCode,
    billToAddressLine1: a.line1,
    billToAddressLine2: '',
    billToCity: a.city,
    billToCountry: a.country,
    billToState: a.state,
    billToPostCode: a.postalCode,
    shipToAddressLine1: a.line1,
    shipToAddressLine2: '',
    shipToCity: a.city,
    shipToCountry: a.country,
    shipToState: a.state,
    shipToPostCode: a.postalCode,
    currencyId: EMPTY_GUID,
    currencyCode,
    pricesIncludeTax: false,
    paymentTermsId: stableGuid(`paymentTerms:${customer.paymentTerms}`),
    shipmentMethodId: EMPTY_GUID,
    salesperson: order.channel === 'INSIDE_SALES' ? 'JR' : '',
    discountAmount: 0,
    discountAppliedBeforeTax: true,
    // The sandbox distributor sells for resale, tax-exempt: tax is zero on every document.
    totalAmountExcludingTax: money(totalCents),
    totalTaxAmount: 0,
    totalAmountIncludingTax: money(totalCents),
    phoneNumber: customer.phone,
    email: customer.email,
  };
}

/**
 * `customerPrices` is computed, not stored (customers × items would be millions of rows), the
 * way a partner API page over a temporary table works: it needs the customer in the filter.
 */
function customerPriceSet(
  items: Table<ItemRow>,
  groups: Table<CustomerPriceGroupRow>,
  currencyCode: string,
): EntitySet {
  const shape = shapeOf('customerPrice', CUSTOMER_PRICE_FIELDS);
  const priceOf = (group: Entity<CustomerPriceGroupRow>, item: Entity<ItemRow>): Entity => {
    const discount = group.row.discountPercent;
    const listCents = centsOf(item.row.unitPrice);
    const row: CustomerPriceRow = {
      id: stableGuid(`customerPrice:${group.row.customerNumber}:${item.row.number}`),
      customerNumber: group.row.customerNumber,
      itemNumber: item.row.number,
      priceGroupCode: group.row.priceGroupCode,
      discountPercent: discount,
      // Integer cents times an integer percent: exact, rounded half up to the cent.
      unitPrice: money(Math.round((listCents * (100 - discount)) / 100)),
      currencyCode,
    };
    // Derived from both sources' etags, so it changes whenever the item or the group does.
    return { row, etag: etagOf(stableGuid(`${item.etag}${group.etag}`), 1) };
  };
  return {
    name: 'customerPrices',
    shape,
    naturalOrder: ['customerNumber', 'itemNumber'],
    navigations: {},
    byId: () => undefined,
    *candidates(filter: FilterNode | undefined) {
      const customers = pinnedKeys(filter, 'customerNumber');
      if (!customers) {
        throw new ODataError(
          400,
          'BadRequest_RequiredParamNotProvided',
          "customerPrices needs the customer: expected a $filter with 'customerNumber eq' or 'customerNumber in (...)'.",
        );
      }
      const skus = pinnedKeys(filter, 'itemNumber');
      for (const number of [...new Set(customers)].sort(ordinal)) {
        const group = groups.byKey(number);
        if (!group) continue;
        if (skus) {
          for (const sku of [...new Set(skus)].sort(ordinal)) {
            const item = items.byKey(sku);
            if (item) yield priceOf(group, item);
          }
        } else {
          for (const item of items.all()) yield priceOf(group, item);
        }
      }
    },
  };
}
