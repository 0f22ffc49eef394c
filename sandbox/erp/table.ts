/**
 * Entity sets of the sandbox ERP: the port the query engine reads ({@link EntitySet}) and a
 * mutable in-memory {@link Table} indexed by id and by its natural key (number or code), kept
 * sorted by that key so keyset pages and `in (...)` lookups never scan the whole set, and by any
 * other field a table names (an `eq`/`in` on it looks rows up instead of scanning them).
 */
import { type EntityShape, type FilterNode, type Row, lowerBound, pinnedKeys } from './filter.js';

/** A stored entity: its JSON row and the etag of its current version. */
export interface Entity<R extends Row = Row> {
  readonly etag: string;
  readonly row: R;
}

/** A navigation property `$expand` can follow. */
export interface Navigation {
  readonly shape: EntityShape;
  /** A collection (`salesOrderLines`) or a single entity (`paymentTerm`). */
  readonly collection: boolean;
  related(parent: Entity): readonly Entity[];
}

/** What the query engine needs of an entity set. */
export interface EntitySet {
  readonly name: string;
  readonly shape: EntityShape;
  /** Fields of the order rows come in without `$orderby` (BC: the primary key). */
  readonly naturalOrder: readonly string[];
  /** Rows that may match `filter`, in natural order; the engine applies the filter again. */
  candidates(filter: FilterNode | undefined): Iterable<Entity>;
  byId(id: string): Entity | undefined;
  readonly navigations: Readonly<Record<string, Navigation>>;
}

/** The all-zero GUID BC uses for an empty reference. */
export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** A BC-style weak etag: base64 of `'44;<base64 key>1;<version>;'` (BC's `JzQ0O...` prefix). */
export function etagOf(id: string, version: number): string {
  const key = Buffer.from(id).toString('base64');
  return `W/"${Buffer.from(`'44;${key}1;${version};'`).toString('base64')}"`;
}

/** A source of increasing row versions shared by every table of one store. */
export type VersionClock = () => number;

/** A mutable table of one entity type, keyed by `id` and by a unique natural key. */
export class Table<R extends Row & { readonly id: string }> implements EntitySet {
  readonly name: string;
  readonly shape: EntityShape;
  readonly naturalOrder: readonly string[];
  readonly navigations: Record<string, Navigation> = {};
  private readonly keyField: keyof R & string;
  private readonly clock: VersionClock;
  private readonly ids = new Map<string, Entity<R>>();
  private readonly keys = new Map<string, Entity<R>>();
  /** Sorted by the natural key (ordinal), as BC returns rows by primary key. */
  private sorted: Entity<R>[] = [];
  /** Per indexed field: the field's value, lower-cased, → the rows holding it. */
  private readonly secondary = new Map<keyof R & string, Map<string, Set<Entity<R>>>>();

  /**
   * `indexed`: fields (not unique) an `eq` or `in` filter looks rows up by. Values are indexed
   * lower-cased, so a lookup finds a superset of what a case-insensitive comparison matches;
   * the query engine applies the filter to every candidate anyway.
   */
  constructor(
    name: string,
    shape: EntityShape,
    keyField: keyof R & string,
    clock: VersionClock,
    indexed: readonly (keyof R & string)[] = [],
  ) {
    this.name = name;
    this.shape = shape;
    this.keyField = keyField;
    this.naturalOrder = [keyField];
    this.clock = clock;
    for (const field of indexed) this.secondary.set(field, new Map());
  }

  /** Replaces the contents with `rows` (one sort, for seeding 100k items quickly). */
  load(rows: readonly R[]): void {
    this.ids.clear();
    this.keys.clear();
    this.sorted = rows.map((row) => this.stamp(row));
    this.sorted.sort((a, b) => ordinal(this.keyOf(a.row), this.keyOf(b.row)));
    for (const index of this.secondary.values()) index.clear();
    for (const entity of this.sorted) {
      this.ids.set(entity.row.id.toLowerCase(), entity);
      this.keys.set(this.keyOf(entity.row), entity);
      this.index(entity);
    }
  }

  /** Inserts or replaces a row (by id) and gives it a new version. */
  upsert(row: R): Entity<R> {
    const entity = this.stamp(row);
    const previous = this.ids.get(row.id.toLowerCase());
    if (previous) {
      this.keys.delete(this.keyOf(previous.row));
      this.sorted.splice(this.indexOf(this.keyOf(previous.row), true), 1);
      this.unindex(previous);
    }
    this.sorted.splice(this.indexOf(this.keyOf(row), true), 0, entity);
    this.ids.set(row.id.toLowerCase(), entity);
    this.keys.set(this.keyOf(row), entity);
    this.index(entity);
    return entity;
  }

  /** Removes the row with `id`; false when there is none. */
  delete(id: string): boolean {
    const entity = this.ids.get(id.toLowerCase());
    if (!entity) return false;
    this.ids.delete(id.toLowerCase());
    this.keys.delete(this.keyOf(entity.row));
    this.sorted.splice(this.indexOf(this.keyOf(entity.row), true), 1);
    this.unindex(entity);
    return true;
  }

  byId(id: string): Entity<R> | undefined {
    return this.ids.get(id.toLowerCase());
  }

  /** The row whose natural key is `key`. */
  byKey(key: string): Entity<R> | undefined {
    return this.keys.get(key);
  }

  /** Every row in natural order. */
  all(): readonly Entity<R>[] {
    return this.sorted;
  }

  *candidates(filter: FilterNode | undefined): Iterable<Entity<R>> {
    const ids = pinnedKeys(filter, 'id');
    if (ids) {
      yield* this.lookUp(ids, (id) => this.byId(id));
      return;
    }
    const keys = pinnedKeys(filter, this.keyField);
    if (keys) {
      yield* this.lookUp(keys, (key) => this.byKey(key));
      return;
    }
    for (const [field, index] of this.secondary) {
      const values = pinnedKeys(filter, field);
      if (values) {
        yield* this.lookUpAll(values.flatMap((v) => [...(index.get(v.toLowerCase()) ?? [])]));
        return;
      }
    }
    const bound = lowerBound(filter, this.keyField);
    const start = bound ? this.indexOf(bound.value, bound.inclusive) : 0;
    for (let i = start; i < this.sorted.length; i++) {
      const entity = this.sorted[i];
      if (entity) yield entity;
    }
  }

  private *lookUp(
    keys: readonly string[],
    get: (key: string) => Entity<R> | undefined,
  ): Iterable<Entity<R>> {
    const found: Entity<R>[] = [];
    for (const key of keys) {
      const entity = get(key);
      if (entity) found.push(entity);
    }
    yield* this.lookUpAll(found);
  }

  /** `found` without repeats, in natural order. */
  private *lookUpAll(found: readonly Entity<R>[]): Iterable<Entity<R>> {
    yield* [...new Set(found)].sort((a, b) => ordinal(this.keyOf(a.row), this.keyOf(b.row)));
  }

  private index(entity: Entity<R>): void {
    for (const [field, index] of this.secondary) {
      const value = String(entity.row[field]).toLowerCase();
      let rows = index.get(value);
      if (!rows) index.set(value, (rows = new Set()));
      rows.add(entity);
    }
  }

  private unindex(entity: Entity<R>): void {
    for (const [field, index] of this.secondary) {
      const value = String(entity.row[field]).toLowerCase();
      const rows = index.get(value);
      rows?.delete(entity);
      if (rows?.size === 0) index.delete(value);
    }
  }

  /** First index whose key is ≥ `key` (`inclusive`) or > `key`. */
  private indexOf(key: string, inclusive: boolean): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.sorted[mid];
      const cmp = at ? ordinal(this.keyOf(at.row), key) : 1;
      if (cmp < 0 || (cmp === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private keyOf(row: R): string {
    return String(row[this.keyField]);
  }

  private stamp(row: R): Entity<R> {
    return { row, etag: etagOf(row.id, this.clock()) };
  }
}

/** Ordinal comparison of strings, the order keys sort in. */
export function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
