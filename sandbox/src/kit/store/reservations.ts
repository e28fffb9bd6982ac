import { addDays, stayNights } from "../dates";
import { adjustRoomsToSell, getUnit, isSellable, readDays } from "./calendar";
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
  const days = readDays(sql, unit, start, addDays(end, -1), "rooms");
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
  if (!unit) return notFound(model === "listing" ? "listing" : "room");
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
  if (model === "rooms") {
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
  if (model === "rooms" && datesChanged) {
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
  if (model === "rooms") {
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
