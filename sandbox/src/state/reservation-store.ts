import { addDays, stayNights } from "../lib/dates";
import { adjustRoomsToSell, getUnit, isSellable, readDays } from "./calendar-store";
import type {
  InventoryModel,
  NewReservation,
  ReservationChange,
  ReservationResult,
  ReservationRow,
  UnitRow,
} from "./types";

export function getReservation(sql: SqlStorage, id: string): ReservationRow | null {
  return (
    (sql.exec("SELECT * FROM reservations WHERE id = ?", id).toArray()[0] as unknown as
      ReservationRow | undefined) ?? null
  );
}

export function listReservations(
  sql: SqlStorage,
  propertyId: string | null,
  unitId: string | null,
): ReservationRow[] {
  return sql
    .exec(
      `SELECT * FROM reservations
       WHERE (?1 IS NULL OR property_id = ?1) AND (?2 IS NULL OR unit_id = ?2)
       ORDER BY created_at, id`,
      propertyId,
      unitId,
    )
    .toArray() as unknown as ReservationRow[];
}

/** Open on the platform's own calendar for every night of the stay (informational only). */
function calendarOpen(
  sql: SqlStorage,
  unit: UnitRow,
  start: string,
  end: string,
  model: InventoryModel,
  exceptId: string | null,
): boolean {
  if (end <= start) return false;
  return readDays(sql, unit, start, addDays(end, -1), model, exceptId).every(isSellable);
}

/** Sum of the nightly prices the calendar shows, when the caller gave no total. */
function priceStay(sql: SqlStorage, unit: UnitRow, start: string, end: string): string {
  const days = readDays(sql, unit, start, addDays(end, -1), "booking_com");
  const cents = days.reduce((sum, d) => sum + Math.round(Number(d.price ?? "0") * 100), 0);
  return (cents / 100).toFixed(2);
}

function notFound(what: string): ReservationResult {
  return { ok: false, status: 404, error: "not_found", message: `${what} not found` };
}

export function createReservation(
  sql: SqlStorage,
  input: NewReservation,
  model: InventoryModel,
  now: number,
): ReservationResult {
  const unit = getUnit(sql, input.property_id, input.unit_id);
  if (!unit) return notFound(model === "airbnb" ? "listing" : "room");
  if (getReservation(sql, input.id)) {
    return { ok: false, status: 409, error: "conflict", message: `${input.id} already exists` };
  }
  // The platform sells what its calendar shows and does not refuse here: overbooking across
  // channels is the engine's problem. The flag only reports what the calendar said.
  const open = calendarOpen(sql, unit, input.start_date, input.end_date, model, null);
  const total = input.total ?? priceStay(sql, unit, input.start_date, input.end_date);
  sql.exec(
    `INSERT INTO reservations (id, property_id, unit_id, rate_plan_id, status, last_action,
       start_date, end_date, given_name, surname, guests, total, currency, created_at, modified_at)
     VALUES (?, ?, ?, ?, 'confirmed', 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    input.id,
    input.property_id,
    input.unit_id,
    input.rate_plan_id ?? unit.rate_plan_id,
    input.start_date,
    input.end_date,
    input.given_name,
    input.surname,
    input.guests,
    total,
    input.currency ?? unit.currency,
    now,
    now,
  );
  if (model === "booking_com") {
    adjustRoomsToSell(sql, unit, stayNights(input.start_date, input.end_date), -1);
  }
  return { ok: true, reservation: getReservation(sql, input.id)!, calendar_open: open };
}

export function modifyReservation(
  sql: SqlStorage,
  id: string,
  change: ReservationChange,
  model: InventoryModel,
  now: number,
): ReservationResult {
  const row = getReservation(sql, id);
  if (!row) return notFound("reservation");
  if (row.status === "cancelled") {
    return { ok: false, status: 409, error: "conflict", message: `${id} is cancelled` };
  }
  const unit = getUnit(sql, row.property_id, row.unit_id)!;
  const start = change.start_date ?? row.start_date;
  const end = change.end_date ?? row.end_date;
  if (end <= start) {
    return {
      ok: false,
      status: 400,
      error: "validation_error",
      message: "end_date (check-out) must be after start_date",
    };
  }
  const open = calendarOpen(sql, unit, start, end, model, id);
  const datesChanged = start !== row.start_date || end !== row.end_date;
  if (model === "booking_com" && datesChanged) {
    adjustRoomsToSell(sql, unit, stayNights(row.start_date, row.end_date), +1);
    adjustRoomsToSell(sql, unit, stayNights(start, end), -1);
  }
  const total = change.total ?? (datesChanged ? priceStay(sql, unit, start, end) : row.total);
  sql.exec(
    `UPDATE reservations SET start_date = ?, end_date = ?, guests = ?, total = ?,
       last_action = 'modified', modified_at = ? WHERE id = ?`,
    start,
    end,
    change.guests ?? row.guests,
    total,
    Math.max(now, row.modified_at + 1),
    id,
  );
  return { ok: true, reservation: getReservation(sql, id)!, calendar_open: open };
}

export function cancelReservation(
  sql: SqlStorage,
  id: string,
  model: InventoryModel,
  now: number,
): ReservationResult {
  const row = getReservation(sql, id);
  if (!row) return notFound("reservation");
  if (row.status === "cancelled") {
    return { ok: false, status: 409, error: "conflict", message: `${id} is already cancelled` };
  }
  const unit = getUnit(sql, row.property_id, row.unit_id)!;
  if (model === "booking_com") {
    adjustRoomsToSell(sql, unit, stayNights(row.start_date, row.end_date), +1);
  }
  sql.exec(
    `UPDATE reservations SET status = 'cancelled', last_action = 'cancelled', modified_at = ?
     WHERE id = ?`,
    Math.max(now, row.modified_at + 1),
    id,
  );
  const open = calendarOpen(sql, unit, row.start_date, row.end_date, model, id);
  return { ok: true, reservation: getReservation(sql, id)!, calendar_open: open };
}

/** Hotels that withdrew the channel's authorisation: their reservations are not served. */
const UNAUTHORISED = "SELECT property_id FROM properties WHERE authorised = 0";

/**
 * Booking.com pull: every reservation whose current revision is not acknowledged, of authorised
 * hotels only. The revision handed out is remembered, so an acknowledgement covers only what the
 * client has actually seen.
 */
export function pullPending(sql: SqlStorage, propertyId: string | null): ReservationRow[] {
  const rows = sql
    .exec(
      `SELECT * FROM reservations
       WHERE (?1 IS NULL OR property_id = ?1) AND (acked_at IS NULL OR acked_at < modified_at)
         AND property_id NOT IN (${UNAUTHORISED})
       ORDER BY modified_at, id`,
      propertyId,
    )
    .toArray() as unknown as ReservationRow[];
  for (const r of rows) {
    sql.exec("UPDATE reservations SET served_at = modified_at WHERE id = ?", r.id);
  }
  return rows;
}

export interface AckResult {
  acknowledged: string[];
  /** Ids that could not be acknowledged, with the reason. */
  refused: { id: string; reason: string }[];
}

export function acknowledge(sql: SqlStorage, ids: string[]): AckResult {
  const result: AckResult = { acknowledged: [], refused: [] };
  const unauthorised = new Set(
    sql
      .exec<{ property_id: string }>(UNAUTHORISED)
      .toArray()
      .map((r) => r.property_id),
  );
  for (const id of ids) {
    const row = getReservation(sql, id);
    // A reservation of a hotel that withdrew the authorisation is as unknown as a missing one.
    if (!row || unauthorised.has(row.property_id)) {
      result.refused.push({ id, reason: "unknown reservation" });
    } else if (row.served_at === null) {
      result.refused.push({ id, reason: "reservation was never retrieved" });
    } else {
      // Acknowledge the revision the client pulled; a newer one (modified since) stays pending.
      sql.exec(
        "UPDATE reservations SET acked_at = MAX(COALESCE(acked_at, 0), served_at) WHERE id = ?",
        id,
      );
      if (row.served_at < row.modified_at) {
        result.refused.push({ id, reason: "modified since it was retrieved; pull again" });
      } else {
        result.acknowledged.push(id);
      }
    }
  }
  return result;
}
