/**
 * The entity types of the sandbox ERP, field by field as Business Central API v2.0 names them
 * (devitpro `api-reference/v2.0/resources/*.md`), plus the partner custom API for pricing.
 * One table of field kinds per type drives both the row type and `$filter`/`$select` checks.
 */
import type { EdmFields, EntityShape, FieldType } from './filter.js';

type ValueOf<T extends FieldType> = T extends 'number'
  ? number
  : T extends 'boolean'
    ? boolean
    : string;

/** The JSON row of an entity type described by `F`. */
export type RowOf<F extends EdmFields> = { -readonly [K in keyof F]: ValueOf<F[K]> };

/** `companies`. */
export const COMPANY_FIELDS = {
  id: 'guid',
  systemVersion: 'string',
  timestamp: 'number',
  name: 'string',
  displayName: 'string',
  businessProfileId: 'string',
  systemCreatedAt: 'datetime',
  systemCreatedBy: 'guid',
  systemModifiedAt: 'datetime',
  systemModifiedBy: 'guid',
} as const satisfies EdmFields;

/** `items`. */
export const ITEM_FIELDS = {
  id: 'guid',
  number: 'string',
  displayName: 'string',
  displayName2: 'string',
  type: 'string',
  itemCategoryId: 'guid',
  itemCategoryCode: 'string',
  blocked: 'boolean',
  gtin: 'string',
  inventory: 'number',
  unitPrice: 'number',
  priceIncludesTax: 'boolean',
  unitCost: 'number',
  taxGroupId: 'guid',
  taxGroupCode: 'string',
  baseUnitOfMeasureId: 'guid',
  baseUnitOfMeasureCode: 'string',
  generalProductPostingGroupId: 'guid',
  generalProductPostingGroupCode: 'string',
  inventoryPostingGroupId: 'guid',
  inventoryPostingGroupCode: 'string',
  lastModifiedDateTime: 'datetime',
} as const satisfies EdmFields;

/** `customers`. */
export const CUSTOMER_FIELDS = {
  id: 'guid',
  number: 'string',
  displayName: 'string',
  type: 'string',
  addressLine1: 'string',
  addressLine2: 'string',
  city: 'string',
  state: 'string',
  country: 'string',
  postalCode: 'string',
  phoneNumber: 'string',
  email: 'string',
  website: 'string',
  salespersonCode: 'string',
  balanceDue: 'number',
  creditLimit: 'number',
  taxLiable: 'boolean',
  taxAreaId: 'guid',
  taxAreaDisplayName: 'string',
  taxRegistrationNumber: 'string',
  currencyId: 'guid',
  currencyCode: 'string',
  paymentTermsId: 'guid',
  shipmentMethodId: 'guid',
  paymentMethodId: 'guid',
  blocked: 'string',
  lastModifiedDateTime: 'datetime',
} as const satisfies EdmFields;

/** `paymentTerms`. */
export const PAYMENT_TERM_FIELDS = {
  id: 'guid',
  code: 'string',
  displayName: 'string',
  dueDateCalculation: 'string',
  discountDateCalculation: 'string',
  discountPercent: 'number',
  calculateDiscountOnCreditMemos: 'boolean',
  lastModifiedDateTime: 'datetime',
} as const satisfies EdmFields;

const DOCUMENT_PARTY_FIELDS = {
  customerId: 'guid',
  customerNumber: 'string',
  customerName: 'string',
  billToName: 'string',
  billToCustomerId: 'guid',
  billToCustomerNumber: 'string',
  shipToName: 'string',
  shipToContact: 'string',
  sellToAddressLine1: 'string',
  sellToAddressLine2: 'string',
  sellToCity: 'string',
  sellToCountry: 'string',
  sellToState: 'string',
  sellToPostCode: 'string',
  billToAddressLine1: 'string',
  billToAddressLine2: 'string',
  billToCity: 'string',
  billToCountry: 'string',
  billToState: 'string',
  billToPostCode: 'string',
  shipToAddressLine1: 'string',
  shipToAddressLine2: 'string',
  shipToCity: 'string',
  shipToCountry: 'string',
  shipToState: 'string',
  shipToPostCode: 'string',
  currencyId: 'guid',
  currencyCode: 'string',
  pricesIncludeTax: 'boolean',
  paymentTermsId: 'guid',
  shipmentMethodId: 'guid',
  salesperson: 'string',
  discountAmount: 'number',
  discountAppliedBeforeTax: 'boolean',
  totalAmountExcludingTax: 'number',
  totalTaxAmount: 'number',
  totalAmountIncludingTax: 'number',
  status: 'string',
  lastModifiedDateTime: 'datetime',
  phoneNumber: 'string',
  email: 'string',
} as const satisfies EdmFields;

/**
 * `salesOrders`. `crossdockChannel` is not a BC field: it is what a partner table extension on
 * Sales Header adds (and its API page extension exposes) so the selling channel survives.
 */
export const SALES_ORDER_FIELDS = {
  id: 'guid',
  number: 'string',
  externalDocumentNumber: 'string',
  orderDate: 'date',
  postingDate: 'date',
  requestedDeliveryDate: 'date',
  partialShipping: 'boolean',
  fullyShipped: 'boolean',
  ...DOCUMENT_PARTY_FIELDS,
  crossdockChannel: 'string',
} as const satisfies EdmFields;

/** `salesOrderLines`. */
export const SALES_ORDER_LINE_FIELDS = {
  id: 'guid',
  documentId: 'guid',
  sequence: 'number',
  itemId: 'guid',
  accountId: 'guid',
  lineType: 'string',
  lineObjectNumber: 'string',
  description: 'string',
  description2: 'string',
  unitOfMeasureId: 'guid',
  unitOfMeasureCode: 'string',
  quantity: 'number',
  unitPrice: 'number',
  discountAmount: 'number',
  discountPercent: 'number',
  discountAppliedBeforeTax: 'boolean',
  amountExcludingTax: 'number',
  taxCode: 'string',
  taxPercent: 'number',
  totalTaxAmount: 'number',
  amountIncludingTax: 'number',
  invoiceDiscountAllocation: 'number',
  netAmount: 'number',
  netTaxAmount: 'number',
  netAmountIncludingTax: 'number',
  shipmentDate: 'date',
  shippedQuantity: 'number',
  invoicedQuantity: 'number',
  invoiceQuantity: 'number',
  shipQuantity: 'number',
  itemVariantId: 'guid',
  locationId: 'guid',
} as const satisfies EdmFields;

/** `salesInvoices`. */
export const SALES_INVOICE_FIELDS = {
  id: 'guid',
  number: 'string',
  externalDocumentNumber: 'string',
  invoiceDate: 'date',
  postingDate: 'date',
  dueDate: 'date',
  customerPurchaseOrderReference: 'string',
  orderId: 'guid',
  orderNumber: 'string',
  remainingAmount: 'number',
  ...DOCUMENT_PARTY_FIELDS,
} as const satisfies EdmFields;

/**
 * `salesCreditMemos` (APIV2 page "Sales Credit Memos"): the return document. Unlike orders it
 * has no ship-to address; `invoiceId`/`invoiceNumber` apply it to a posted invoice.
 */
export const SALES_CREDIT_MEMO_FIELDS = {
  id: 'guid',
  number: 'string',
  externalDocumentNumber: 'string',
  creditMemoDate: 'date',
  postingDate: 'date',
  dueDate: 'date',
  customerId: 'guid',
  customerNumber: 'string',
  customerName: 'string',
  billToName: 'string',
  billToCustomerId: 'guid',
  billToCustomerNumber: 'string',
  sellToAddressLine1: 'string',
  sellToAddressLine2: 'string',
  sellToCity: 'string',
  sellToCountry: 'string',
  sellToState: 'string',
  sellToPostCode: 'string',
  billToAddressLine1: 'string',
  billToAddressLine2: 'string',
  billToCity: 'string',
  billToCountry: 'string',
  billToState: 'string',
  billToPostCode: 'string',
  currencyId: 'guid',
  currencyCode: 'string',
  paymentTermsId: 'guid',
  shipmentMethodId: 'guid',
  salesperson: 'string',
  pricesIncludeTax: 'boolean',
  discountAmount: 'number',
  discountAppliedBeforeTax: 'boolean',
  totalAmountExcludingTax: 'number',
  totalTaxAmount: 'number',
  totalAmountIncludingTax: 'number',
  status: 'string',
  lastModifiedDateTime: 'datetime',
  invoiceId: 'guid',
  invoiceNumber: 'string',
  phoneNumber: 'string',
  email: 'string',
  customerReturnReasonId: 'guid',
} as const satisfies EdmFields;

/** `salesCreditMemoLines`. */
export const SALES_CREDIT_MEMO_LINE_FIELDS = {
  id: 'guid',
  documentId: 'guid',
  sequence: 'number',
  itemId: 'guid',
  accountId: 'guid',
  lineType: 'string',
  lineObjectNumber: 'string',
  description: 'string',
  description2: 'string',
  unitOfMeasureId: 'guid',
  unitOfMeasureCode: 'string',
  unitPrice: 'number',
  quantity: 'number',
  discountAmount: 'number',
  discountPercent: 'number',
  discountAppliedBeforeTax: 'boolean',
  amountExcludingTax: 'number',
  taxCode: 'string',
  taxPercent: 'number',
  totalTaxAmount: 'number',
  amountIncludingTax: 'number',
  invoiceDiscountAllocation: 'number',
  netAmount: 'number',
  netTaxAmount: 'number',
  netAmountIncludingTax: 'number',
  shipmentDate: 'date',
  itemVariantId: 'guid',
  locationId: 'guid',
} as const satisfies EdmFields;

/** `locations`. */
export const LOCATION_FIELDS = {
  id: 'guid',
  code: 'string',
  displayName: 'string',
  contact: 'string',
  addressLine1: 'string',
  addressLine2: 'string',
  city: 'string',
  state: 'string',
  country: 'string',
  postalCode: 'string',
  phoneNumber: 'string',
  email: 'string',
  website: 'string',
  lastModifiedDateTime: 'datetime',
} as const satisfies EdmFields;

/** Custom API `crossdock/pricing/v1.0` `customerPrices`: a customer's net price of an item. */
export const CUSTOMER_PRICE_FIELDS = {
  id: 'guid',
  customerNumber: 'string',
  itemNumber: 'string',
  priceGroupCode: 'string',
  discountPercent: 'number',
  unitPrice: 'number',
  currencyCode: 'string',
} as const satisfies EdmFields;

/** Custom API `crossdock/pricing/v1.0` `customerPriceGroups`: BC's Customer Price Group per customer. */
export const CUSTOMER_PRICE_GROUP_FIELDS = {
  id: 'guid',
  customerNumber: 'string',
  priceGroupCode: 'string',
  discountPercent: 'number',
} as const satisfies EdmFields;

/** A company row. */
export type CompanyRow = RowOf<typeof COMPANY_FIELDS>;
/** An item row. */
export type ItemRow = RowOf<typeof ITEM_FIELDS>;
/** A customer row. */
export type CustomerRow = RowOf<typeof CUSTOMER_FIELDS>;
/** A payment terms row. */
export type PaymentTermRow = RowOf<typeof PAYMENT_TERM_FIELDS>;
/** A sales order header row. */
export type SalesOrderRow = RowOf<typeof SALES_ORDER_FIELDS>;
/** A sales order line row. */
export type SalesOrderLineRow = RowOf<typeof SALES_ORDER_LINE_FIELDS>;
/** A sales invoice header row. */
export type SalesInvoiceRow = RowOf<typeof SALES_INVOICE_FIELDS>;
/** A sales credit memo header row. */
export type SalesCreditMemoRow = RowOf<typeof SALES_CREDIT_MEMO_FIELDS>;
/** A sales credit memo line row. */
export type SalesCreditMemoLineRow = RowOf<typeof SALES_CREDIT_MEMO_LINE_FIELDS>;
/** A location row. */
export type LocationRow = RowOf<typeof LOCATION_FIELDS>;
/** A customer price row (custom API). */
export type CustomerPriceRow = RowOf<typeof CUSTOMER_PRICE_FIELDS>;
/** A customer price group row (custom API). */
export type CustomerPriceGroupRow = RowOf<typeof CUSTOMER_PRICE_GROUP_FIELDS>;

/** The shape `$filter` and `$select` check against, with BC's type name for messages. */
export function shapeOf(entity: string, fields: EdmFields): EntityShape {
  return { typeName: `Microsoft.NAV.${entity}`, fields };
}
