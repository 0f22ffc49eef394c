/**
 * Deterministic seed data for the sandbox distributor (DESIGN.md, "The sandbox distributor").
 *
 * One function builds the whole world from a catalogue size and a seed, so the ERP, the two
 * WMS instances and the commerce platform agree on every SKU, customer and order, and a test
 * can compute what a system must answer. No I/O; the same input gives the same output.
 */
import { CHANNELS, type ChannelCode } from '../sources/contract.js';

/** A small fast PRNG (mulberry32): deterministic, good enough for seed data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A GUID-shaped id derived from a name, stable across runs (not random). */
export function stableGuid(name: string): string {
  // FNV-1a over the name, stretched to 128 bits with four different offsets.
  const parts: string[] = [];
  for (let k = 0; k < 4; k++) {
    let h = (0x811c9dc5 ^ (k * 0x9e3779b9)) >>> 0;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    parts.push(h.toString(16).padStart(8, '0'));
  }
  const hex = parts.join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export { CHANNELS } from '../sources/contract.js';
/** A channel of a seeded order. */
export type SeedChannel = ChannelCode;

/** A sandbox warehouse (WMS facility). */
export interface SeedWarehouse {
  readonly code: string;
  readonly facilityId: number;
  readonly name: string;
  /** Which WMS instance runs it: the distributor's own WMS, or the 3PL's. */
  readonly system: 'wms' | 'tpl';
  readonly address: {
    readonly address1: string;
    readonly city: string;
    readonly state: string;
    readonly zip: string;
    readonly country: string;
  };
}

/** Three owned warehouses and one 3PL facility. */
export const WAREHOUSES: readonly SeedWarehouse[] = [
  {
    code: 'EAST',
    facilityId: 1,
    name: 'Newark Distribution Center',
    system: 'wms',
    address: { address1: '400 Port St', city: 'Newark', state: 'NJ', zip: '07114', country: 'US' },
  },
  {
    code: 'CENTRAL',
    facilityId: 2,
    name: 'Columbus Distribution Center',
    system: 'wms',
    address: {
      address1: '2200 Rickenbacker Pkwy',
      city: 'Columbus',
      state: 'OH',
      zip: '43217',
      country: 'US',
    },
  },
  {
    code: 'WEST',
    facilityId: 3,
    name: 'Reno Distribution Center',
    system: 'wms',
    address: {
      address1: '1 Logistics Way',
      city: 'Reno',
      state: 'NV',
      zip: '89502',
      country: 'US',
    },
  },
  {
    code: '3PL-SOUTH',
    facilityId: 7,
    name: 'FastLane Logistics Dallas',
    system: 'tpl',
    address: {
      address1: '8800 Freeport Pkwy',
      city: 'Irving',
      state: 'TX',
      zip: '75063',
      country: 'US',
    },
  },
];

/** Customer price groups and the discount each gets off list price (percent). */
export const PRICE_GROUPS: Readonly<Record<string, number>> = {
  RETAIL: 0,
  WHOLESALE: 10,
  DISTRIBUTOR: 18,
  KEY_ACCOUNT: 25,
};

/** Payment terms codes. */
export const PAYMENT_TERMS = ['NET30', 'NET60', '2%10NET30', 'COD'] as const;

/** A catalogue item, the union of what every system knows of it. */
export interface SeedProduct {
  readonly sku: string;
  readonly index: number;
  readonly name: string;
  readonly category: string;
  readonly description: string;
  readonly vendor: string;
  readonly gtin: string;
  readonly unitOfMeasure: string;
  /** List price in cents. */
  readonly priceCents: number;
  readonly costCents: number;
  readonly blocked: boolean;
  /** Commerce status: most products ACTIVE, some DRAFT or ARCHIVED. */
  readonly webStatus: 'ACTIVE' | 'DRAFT' | 'ARCHIVED';
}

/** Stock of one SKU at one facility. */
export interface SeedStock {
  readonly sku: string;
  readonly warehouse: string;
  readonly onHand: number;
  readonly allocated: number;
  readonly onHold: number;
}

/** A customer with commercial terms. */
export interface SeedCustomer {
  readonly number: string;
  readonly name: string;
  readonly type: 'Company' | 'Person';
  readonly email: string;
  readonly phone: string;
  readonly address: {
    readonly line1: string;
    readonly city: string;
    readonly state: string;
    readonly postalCode: string;
    readonly country: string;
  };
  readonly paymentTerms: (typeof PAYMENT_TERMS)[number];
  readonly creditLimitCents: number;
  readonly balanceDueCents: number;
  /** Business Central's blocked option: ' ' (none), 'Ship', 'Invoice', 'All'. */
  readonly blocked: ' ' | 'Ship' | 'Invoice' | 'All';
  readonly priceGroup: keyof typeof PRICE_GROUPS | string;
}

/** A line of a seeded sales order. */
export interface SeedOrderLine {
  readonly sequence: number;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly shippedQuantity: number;
  readonly invoicedQuantity: number;
}

/** A seeded sales order and its fulfilment history. */
export interface SeedOrder {
  readonly number: string;
  readonly channel: SeedChannel;
  readonly customerNumber: string;
  readonly externalReference: string | null;
  readonly orderDate: string;
  /** Where the order is in its life: open, released to a warehouse, shipped, invoiced. */
  readonly stage: 'OPEN' | 'RELEASED' | 'SHIPPED' | 'INVOICED';
  readonly warehouse: string;
  readonly lines: readonly SeedOrderLine[];
  readonly carrier: string | null;
  readonly trackingNumber: string | null;
  readonly shippedAt: string | null;
  readonly invoiceNumber: string | null;
}

/** The whole sandbox world. */
export interface SeedWorld {
  readonly seed: number;
  readonly currencyCode: 'USD';
  readonly warehouses: readonly SeedWarehouse[];
  readonly products: readonly SeedProduct[];
  readonly stock: readonly SeedStock[];
  readonly customers: readonly SeedCustomer[];
  readonly orders: readonly SeedOrder[];
  /** Fixed "now" of the seed, so timestamps are reproducible. */
  readonly epoch: string;
}

/** Options of {@link buildWorld}. */
export interface SeedOptions {
  /**
   * Number of catalogue items.
   * @default 500
   */
  readonly catalogSize?: number;
  /**
   * Number of customers.
   * @default 60
   */
  readonly customers?: number;
  /**
   * Number of historical sales orders.
   * @default 120
   */
  readonly orders?: number;
  /**
   * PRNG seed.
   * @default 42
   */
  readonly seed?: number;
}

/** Default catalogue size of the sandbox. */
export const DEFAULT_CATALOG_SIZE = 500;

const CATEGORIES = [
  'Fasteners',
  'Electrical',
  'Plumbing',
  'Safety',
  'Janitorial',
  'Packaging',
  'Tools',
  'HVAC',
] as const;
const NOUNS: Readonly<Record<(typeof CATEGORIES)[number], readonly string[]>> = {
  Fasteners: ['Hex Bolt', 'Lag Screw', 'Wing Nut', 'Flat Washer', 'Anchor', 'Rivet'],
  Electrical: ['Wire Nut', 'Junction Box', 'Breaker', 'Conduit', 'Receptacle', 'Cable Tie'],
  Plumbing: ['Ball Valve', 'Pipe Elbow', 'Coupling', 'P-Trap', 'Supply Line', 'Hose Clamp'],
  Safety: [
    'Hard Hat',
    'Safety Glasses',
    'Nitrile Gloves',
    'Ear Plugs',
    'Hi-Vis Vest',
    'Respirator',
  ],
  Janitorial: [
    'Mop Head',
    'Trash Liner',
    'Floor Cleaner',
    'Paper Towel',
    'Dust Pan',
    'Spray Bottle',
  ],
  Packaging: ['Stretch Film', 'Carton', 'Packing Tape', 'Bubble Roll', 'Pallet Label', 'Void Fill'],
  Tools: ['Utility Knife', 'Tape Measure', 'Pliers', 'Screwdriver Set', 'Socket Set', 'Level'],
  HVAC: ['Air Filter', 'Duct Tape', 'Thermostat', 'Fan Belt', 'Register', 'Condensate Pump'],
};
const ADJECTIVES = [
  'Heavy-Duty',
  'Stainless',
  'Galvanized',
  'Industrial',
  'Compact',
  'Premium',
  'Standard',
  'Zinc-Plated',
];
const SIZES = [
  '1/4"',
  '3/8"',
  '1/2"',
  '3/4"',
  '1"',
  'S',
  'M',
  'L',
  'XL',
  '10 pk',
  '50 pk',
  '100 pk',
];
const VENDORS = [
  'Acme Industrial',
  'Northwind Supply',
  'Contoso Tools',
  'Fabrikam',
  'Tailspin Hardware',
];
const COMPANY_WORDS = [
  'Summit',
  'Harbor',
  'Keystone',
  'Pioneer',
  'Redwood',
  'Granite',
  'Beacon',
  'Cedar',
  'Atlas',
  'Liberty',
  'Frontier',
  'Prairie',
];
const COMPANY_KINDS = [
  'Builders',
  'Facilities',
  'Mechanical',
  'Electric',
  'Supply Co',
  'Maintenance',
  'Contractors',
  'Hospitality',
];
const CITIES = [
  { city: 'Boston', state: 'MA', zip: '02110' },
  { city: 'Chicago', state: 'IL', zip: '60607' },
  { city: 'Denver', state: 'CO', zip: '80202' },
  { city: 'Atlanta', state: 'GA', zip: '30303' },
  { city: 'Seattle', state: 'WA', zip: '98104' },
  { city: 'Phoenix', state: 'AZ', zip: '85004' },
  { city: 'Houston', state: 'TX', zip: '77002' },
  { city: 'Pittsburgh', state: 'PA', zip: '15222' },
];
const CARRIERS = ['UPS', 'FedEx', 'USPS', 'R+L Carriers'];

/** The SKU of catalogue item `index` (1-based): `SKU-000001`. */
export function skuOf(index: number): string {
  return `SKU-${String(index).padStart(6, '0')}`;
}

/** The customer number of customer `index` (1-based): `C10001`. */
export function customerNumberOf(index: number): string {
  return `C${10000 + index}`;
}

/** The ERP sales order number of order `index` (1-based): `SO-100001`. */
export function orderNumberOf(index: number): string {
  return `SO-${100000 + index}`;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function int(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

function gtinOf(index: number): string {
  const body = `0${String(61414100000 + index).padStart(12, '0')}`.slice(-13);
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[i]) * (i % 2 === 0 ? 3 : 1);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** Builds the sandbox world. Deterministic for equal options. */
export function buildWorld(options: SeedOptions = {}): SeedWorld {
  const seed = options.seed ?? 42;
  const catalogSize = options.catalogSize ?? DEFAULT_CATALOG_SIZE;
  const customerCount = options.customers ?? 60;
  const orderCount = options.orders ?? 120;
  if (!Number.isInteger(catalogSize) || catalogSize < 1) {
    throw new RangeError(`catalogSize: expected a positive integer, got ${catalogSize}`);
  }
  const rand = prng(seed);
  const epochMs = Date.UTC(2026, 10, 1, 12, 0, 0);

  const products: SeedProduct[] = [];
  const stock: SeedStock[] = [];
  for (let i = 1; i <= catalogSize; i++) {
    const category = CATEGORIES[(i - 1) % CATEGORIES.length] ?? 'Tools';
    const noun = pick(rand, NOUNS[category]);
    const name = `${pick(rand, ADJECTIVES)} ${noun} ${pick(rand, SIZES)}`;
    const priceCents = int(rand, 199, 49_999);
    const webRoll = rand();
    products.push({
      sku: skuOf(i),
      index: i,
      name,
      category,
      description: `<p>${name} for professional ${category.toLowerCase()} work. Sold by the ${i % 3 === 0 ? 'case' : 'each'}.</p>`,
      vendor: pick(rand, VENDORS),
      gtin: gtinOf(i),
      unitOfMeasure: i % 3 === 0 ? 'CS' : 'EA',
      priceCents,
      costCents: Math.round(priceCents * (0.55 + rand() * 0.2)),
      blocked: i % 97 === 0,
      webStatus: webRoll < 0.9 ? 'ACTIVE' : webRoll < 0.96 ? 'DRAFT' : 'ARCHIVED',
    });
    // Every SKU is stocked somewhere; most in two or three places.
    for (const wh of WAREHOUSES) {
      const stocked = wh.code === 'EAST' || rand() < (wh.system === 'tpl' ? 0.35 : 0.6);
      if (!stocked) continue;
      const onHand = int(rand, 0, 400);
      const allocated = Math.min(onHand, int(rand, 0, 40));
      const onHold = Math.min(onHand - allocated, rand() < 0.1 ? int(rand, 1, 10) : 0);
      stock.push({ sku: skuOf(i), warehouse: wh.code, onHand, allocated, onHold });
    }
  }

  const customers: SeedCustomer[] = [];
  for (let i = 1; i <= customerCount; i++) {
    const place = pick(rand, CITIES);
    const person = i % 10 === 0;
    const name = person
      ? `${pick(rand, ['Maria', 'James', 'Aisha', 'Chen', 'Lucas', 'Priya'])} ${pick(rand, ['Garcia', 'Smith', 'Okafor', 'Wang', 'Müller', 'Patel'])}`
      : `${pick(rand, COMPANY_WORDS)} ${pick(rand, COMPANY_KINDS)}`;
    const creditLimitCents = person ? 500_000 : int(rand, 10, 200) * 100_000;
    const blockedRoll = rand();
    customers.push({
      number: customerNumberOf(i),
      name,
      type: person ? 'Person' : 'Company',
      email: `ap${i}@${name
        .toLowerCase()
        .replace(/[^a-z]+/g, '-')
        .replace(/^-|-$/g, '')}.example`,
      phone: `+1-555-${String(1000 + i).padStart(4, '0')}`,
      address: {
        line1: `${int(rand, 10, 9999)} ${pick(rand, ['Main', 'Oak', 'Industrial', 'Commerce', 'Market'])} St`,
        city: place.city,
        state: place.state,
        postalCode: place.zip,
        country: 'US',
      },
      paymentTerms: person ? 'COD' : pick(rand, PAYMENT_TERMS),
      creditLimitCents,
      // Customer 3 is over its credit limit; every 17th is on credit hold (blocked for shipping).
      balanceDueCents:
        i === 3 ? creditLimitCents + 125_000 : int(rand, 0, Math.floor(creditLimitCents * 0.6)),
      blocked: i % 17 === 0 ? 'Ship' : i === 29 ? 'All' : blockedRoll < 0.02 ? 'Invoice' : ' ',
      priceGroup: person ? 'RETAIL' : pick(rand, Object.keys(PRICE_GROUPS)),
    });
  }

  const orders: SeedOrder[] = [];
  for (let i = 1; i <= orderCount; i++) {
    const channel = CHANNELS[(i - 1) % CHANNELS.length] ?? 'WEB';
    const customer = customers[(i * 7) % customers.length];
    if (!customer) throw new Error('no customers to seed orders for');
    const stageRoll = rand();
    const stage: SeedOrder['stage'] =
      stageRoll < 0.2
        ? 'OPEN'
        : stageRoll < 0.4
          ? 'RELEASED'
          : stageRoll < 0.6
            ? 'SHIPPED'
            : 'INVOICED';
    const lineCount = int(rand, 1, 5);
    const lines: SeedOrderLine[] = [];
    const used = new Set<number>();
    for (let n = 1; n <= lineCount; n++) {
      let index = int(rand, 1, catalogSize);
      while (used.has(index) && used.size < catalogSize) index = (index % catalogSize) + 1;
      used.add(index);
      const product = products[index - 1];
      if (!product) throw new Error(`no product ${index}`);
      const quantity = int(rand, 1, 24);
      const discount = PRICE_GROUPS[customer.priceGroup] ?? 0;
      const shipped = stage === 'SHIPPED' || stage === 'INVOICED' ? quantity : 0;
      lines.push({
        sequence: n * 10000,
        sku: product.sku,
        quantity,
        unitPriceCents: Math.round((product.priceCents * (100 - discount)) / 100),
        shippedQuantity: shipped,
        invoicedQuantity: stage === 'INVOICED' ? quantity : 0,
      });
    }
    const orderDateMs = epochMs - (orderCount - i + 1) * 3 * 3_600_000;
    const shipped = stage === 'SHIPPED' || stage === 'INVOICED';
    orders.push({
      number: orderNumberOf(i),
      channel,
      customerNumber: customer.number,
      externalReference:
        channel === 'WEB'
          ? `#${1000 + i}`
          : channel === 'EDI'
            ? `PO-${700000 + i}`
            : channel.startsWith('MARKETPLACE')
              ? `MP-${900000 + i}`
              : null,
      orderDate: new Date(orderDateMs).toISOString(),
      stage,
      warehouse: pick(rand, WAREHOUSES).code,
      lines,
      carrier: shipped || stage === 'RELEASED' ? pick(rand, CARRIERS) : null,
      trackingNumber: shipped ? `1Z${String(880000000 + i * 7919).padStart(12, '0')}` : null,
      shippedAt: shipped ? new Date(orderDateMs + 26 * 3_600_000).toISOString() : null,
      invoiceNumber: stage === 'INVOICED' ? `PSI-${200000 + i}` : null,
    });
  }

  return {
    seed,
    currencyCode: 'USD',
    warehouses: WAREHOUSES,
    products,
    stock,
    customers,
    orders,
    epoch: new Date(epochMs).toISOString(),
  };
}

/** Formats integer cents as a decimal string with two places (`1999` → `"19.99"`). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
