import { eachDate, stayNights } from "../dates";
import type { CalendarRow, DayWrite, InventoryModel, UnitPatch, UnitRow } from "./types";

/** One night as the platform would sell it: stored values merged with the unit's defaults. */
export interface DayView {
  date: string;
  closed: boolean;
  /** `listing` model only: a confirmed reservation covers the night (blocked by the platform itself). */
  reserved: boolean;
  rooms_to_sell: number;
  price: string | null;
  currency: string;
  updated_at: number | null;
}

function all<T>(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): T[] {
  return cursor.toArray() as unknown as T[];
}

export function getUnit(sql: SqlStorage, propertyId: string, unitId: string): UnitRow | null {
  return (
    all<UnitRow>(
      sql.exec("SELECT * FROM units WHERE property_id = ? AND unit_id = ?", propertyId, unitId),
    )[0] ?? null
  );
}

export function listUnits(sql: SqlStorage, propertyId: string): UnitRow[] {
  return all<UnitRow>(
    sql.exec("SELECT * FROM units WHERE property_id = ? ORDER BY unit_id", propertyId),
  );
}

export function upsertUnit(
  sql: SqlStorage,
  propertyId: string,
  unitId: string,
  patch: UnitPatch,
): UnitRow {
  sql.exec(
    `INSERT INTO units (property_id, unit_id, units, rate_plan_id, price, currency)
     VALUES (?, ?, COALESCE(?, 1), ?, ?, COALESCE(?, 'EUR'))
     ON CONFLICT (property_id, unit_id) DO UPDATE SET
       units = COALESCE(?, units),
       rate_plan_id = COALESCE(?, rate_plan_id),
       price = COALESCE(?, price),
       currency = COALESCE(?, currency)`,
    propertyId,
    unitId,
    patch.units ?? null,
    patch.rate_plan_id ?? null,
    patch.price ?? null,
    patch.currency ?? null,
    patch.units ?? null,
    patch.rate_plan_id ?? null,
    patch.price ?? null,
    patch.currency ?? null,
  );
  return getUnit(sql, propertyId, unitId)!;
}

/** Apply API writes; every touched day gets `updated_at = now`. Returns the distinct days touched. */
export function writeDays(sql: SqlStorage, writes: DayWrite[], now: number): number {
  const touched = new Set<string>();
  for (const w of writes) {
    const closed = w.patch.closed === undefined ? null : w.patch.closed ? 1 : 0;
    for (const date of eachDate(w.start, w.end)) {
      sql.exec(
        `INSERT INTO calendar (property_id, unit_id, date, rooms_to_sell, closed, price, currency, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (property_id, unit_id, date) DO UPDATE SET
           rooms_to_sell = COALESCE(excluded.rooms_to_sell, rooms_to_sell),
           closed = COALESCE(excluded.closed, closed),
           price = COALESCE(excluded.price, price),
           currency = COALESCE(excluded.currency, currency),
           updated_at = excluded.updated_at`,
        w.property_id,
        w.unit_id,
        date,
        w.patch.rooms_to_sell ?? null,
        closed,
        w.patch.price ?? null,
        w.patch.currency ?? null,
        now,
      );
      touched.add(`${w.property_id}/${w.unit_id}/${date}`);
    }
  }
  return touched.size;
}

/**
 * The `rooms` model lowers rooms-to-sell when a guest books and raises it on cancellation. This is the
 * platform's own bookkeeping, not an API write, so updated_at (which measures pushes) is left alone.
 * An overbooking may drive the stored count below zero (read as 0), so cancelling it restores the
 * count exactly.
 */
export function adjustRoomsToSell(
  sql: SqlStorage,
  unit: UnitRow,
  nights: string[],
  delta: number,
): void {
  for (const date of nights) {
    sql.exec(
      `INSERT INTO calendar (property_id, unit_id, date, rooms_to_sell)
       VALUES (?, ?, ?, ? + ?)
       ON CONFLICT (property_id, unit_id, date) DO UPDATE SET
         rooms_to_sell = COALESCE(rooms_to_sell, ?) + ?`,
      unit.property_id,
      unit.unit_id,
      date,
      unit.units,
      delta,
      unit.units,
      delta,
    );
  }
}

/** Nights covered by confirmed reservations of a unit, optionally ignoring one reservation. */
function reservedNights(
  sql: SqlStorage,
  unit: UnitRow,
  start: string,
  endInclusive: string,
  exceptId: string | null,
): Set<string> {
  const rows = all<{ start_date: string; end_date: string }>(
    sql.exec(
      `SELECT start_date, end_date FROM reservations
       WHERE property_id = ? AND unit_id = ? AND status = 'confirmed'
         AND start_date <= ? AND end_date > ? AND id != ?`,
      unit.property_id,
      unit.unit_id,
      endInclusive,
      start,
      exceptId ?? "",
    ),
  );
  return new Set(rows.flatMap((r) => stayNights(r.start_date, r.end_date)));
}

export function readDays(
  sql: SqlStorage,
  unit: UnitRow,
  start: string,
  endInclusive: string,
  model: InventoryModel,
  exceptReservation: string | null = null,
): DayView[] {
  const stored = new Map<string, CalendarRow>();
  for (const row of all<CalendarRow>(
    sql.exec(
      `SELECT date, rooms_to_sell, closed, price, currency, updated_at FROM calendar
       WHERE property_id = ? AND unit_id = ? AND date BETWEEN ? AND ?`,
      unit.property_id,
      unit.unit_id,
      start,
      endInclusive,
    ),
  )) {
    stored.set(row.date, row);
  }
  const reserved =
    model === "listing"
      ? reservedNights(sql, unit, start, endInclusive, exceptReservation)
      : new Set<string>();
  return eachDate(start, endInclusive).map((date) => {
    const row = stored.get(date);
    const closed = row?.closed === 1;
    const isReserved = reserved.has(date);
    const roomsToSell =
      model === "listing"
        ? closed || isReserved
          ? 0
          : 1
        : Math.max(0, row?.rooms_to_sell ?? unit.units);
    return {
      date,
      closed,
      reserved: isReserved,
      rooms_to_sell: roomsToSell,
      price: row?.price ?? unit.price,
      currency: row?.currency ?? unit.currency,
      updated_at: row?.updated_at ?? null,
    };
  });
}

export function isSellable(day: DayView): boolean {
  return !day.closed && !day.reserved && day.rooms_to_sell > 0;
}
