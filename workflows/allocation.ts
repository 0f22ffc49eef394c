/**
 * Where an order ships from: the allocation rule, a pure function of the order lines and the
 * stock each warehouse reports. Documented in workflows/README.md and tested case by case.
 *
 * 1. One owned warehouse that can ship every line in full (the one with the most stock left
 *    over after the order, then by code) — one parcel, no 3PL fees.
 * 2. Else one 3PL warehouse that can ship every line in full.
 * 3. Else split line by line: each line from the owned warehouses with the most available
 *    first, the 3PL last, taking what each has until the line is covered.
 * 4. If some line cannot be covered by all warehouses together, nothing is allocated: the
 *    caller gets INSUFFICIENT_STOCK for those lines (no backorders in this release).
 */
import type { WarehouseKind } from '../sources/contract.js';

/** Stock one warehouse can promise for one SKU. */
export interface StockAvailability {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly kind: WarehouseKind;
  /** The warehouse system that runs it. */
  readonly source: string;
  readonly available: number;
}

/** One line to allocate. */
export interface LineRequest {
  readonly sku: string;
  readonly quantity: number;
}

/** What one warehouse ships. */
export interface WarehouseAllocation {
  readonly warehouseCode: string;
  readonly source: string;
  readonly kind: WarehouseKind;
  readonly lines: readonly LineRequest[];
}

/** The outcome of {@link allocate}. */
export type AllocationResult =
  | {
      readonly ok: true;
      readonly rule: 'single-owned' | 'single-3pl' | 'split';
      readonly allocations: readonly WarehouseAllocation[];
    }
  | {
      readonly ok: false;
      readonly short: readonly {
        readonly sku: string;
        readonly requested: number;
        readonly available: number;
      }[];
    };

interface Warehouse {
  readonly code: string;
  readonly kind: WarehouseKind;
  readonly source: string;
  readonly stock: Map<string, number>;
}

function warehousesOf(stock: readonly StockAvailability[]): Warehouse[] {
  const byCode = new Map<string, Warehouse>();
  for (const row of stock) {
    let w = byCode.get(row.warehouseCode);
    if (!w) {
      w = { code: row.warehouseCode, kind: row.kind, source: row.source, stock: new Map() };
      byCode.set(row.warehouseCode, w);
    }
    w.stock.set(row.sku, (w.stock.get(row.sku) ?? 0) + Math.max(0, row.available));
  }
  return [...byCode.values()];
}

const canShipAll = (w: Warehouse, lines: readonly LineRequest[]) =>
  lines.every((line) => (w.stock.get(line.sku) ?? 0) >= line.quantity);

const leftOver = (w: Warehouse, lines: readonly LineRequest[]) =>
  lines.reduce((sum, line) => sum + (w.stock.get(line.sku) ?? 0) - line.quantity, 0);

function single(candidates: Warehouse[], lines: readonly LineRequest[]): Warehouse | null {
  const able = candidates.filter((w) => canShipAll(w, lines));
  able.sort((a, b) => leftOver(b, lines) - leftOver(a, lines) || a.code.localeCompare(b.code));
  return able[0] ?? null;
}

/** Allocates `lines` (distinct SKUs, positive quantities) across the warehouses of `stock`. */
export function allocate(
  lines: readonly LineRequest[],
  stock: readonly StockAvailability[],
): AllocationResult {
  const warehouses = warehousesOf(stock);
  const short = lines
    .map((line) => ({
      sku: line.sku,
      requested: line.quantity,
      available: warehouses.reduce((n, w) => n + (w.stock.get(line.sku) ?? 0), 0),
    }))
    .filter((line) => line.available < line.requested);
  if (short.length > 0) return { ok: false, short };

  const owned = warehouses.filter((w) => w.kind === 'OWNED');
  const thirdParty = warehouses.filter((w) => w.kind === 'THIRD_PARTY');
  const whole = (w: Warehouse): WarehouseAllocation => ({
    warehouseCode: w.code,
    source: w.source,
    kind: w.kind,
    lines,
  });
  const ownedOne = single(owned, lines);
  if (ownedOne) return { ok: true, rule: 'single-owned', allocations: [whole(ownedOne)] };
  const tplOne = single(thirdParty, lines);
  if (tplOne) return { ok: true, rule: 'single-3pl', allocations: [whole(tplOne)] };

  const perWarehouse = new Map<string, { w: Warehouse; lines: LineRequest[] }>();
  for (const line of lines) {
    let remaining = line.quantity;
    const order = [
      ...[...owned].sort(
        (a, b) =>
          (b.stock.get(line.sku) ?? 0) - (a.stock.get(line.sku) ?? 0) ||
          a.code.localeCompare(b.code),
      ),
      ...[...thirdParty].sort(
        (a, b) =>
          (b.stock.get(line.sku) ?? 0) - (a.stock.get(line.sku) ?? 0) ||
          a.code.localeCompare(b.code),
      ),
    ];
    for (const w of order) {
      if (remaining === 0) break;
      const take = Math.min(remaining, w.stock.get(line.sku) ?? 0);
      if (take === 0) continue;
      remaining -= take;
      const entry = perWarehouse.get(w.code) ?? { w, lines: [] };
      entry.lines.push({ sku: line.sku, quantity: take });
      perWarehouse.set(w.code, entry);
    }
  }
  const allocations = [...perWarehouse.values()]
    .map(({ w, lines: taken }) => ({
      warehouseCode: w.code,
      source: w.source,
      kind: w.kind,
      lines: taken,
    }))
    .sort((a, b) =>
      a.kind === b.kind
        ? a.warehouseCode.localeCompare(b.warehouseCode)
        : a.kind === 'OWNED'
          ? -1
          : 1,
    );
  return { ok: true, rule: 'split', allocations };
}
