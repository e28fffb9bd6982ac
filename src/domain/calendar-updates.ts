import type { NightAspect } from "./vocabulary";
import { newId } from "../lib/ids";
import { datesToRanges } from "./date-ranges";
import { addDays, localToday, type DateRange, type IsoDate } from "./dates";

/**
 * PMS calendar updates for one room type: the owner closes units (`blocked`) and sets nightly
 * prices (`price_minor`, NULL = the room type's base price). Planning is pure; applying is one D1
 * batch that moves only the nights whose value changes and writes their outbox rows with it.
 */

/** What an outbox row says changed (the outbox table's `aspect`). */
export type CalendarAspect = NightAspect;

/** The room type being updated, with what the plan needs of it and its property. */
export interface CalendarRoomType {
  id: string;
  tenantId: string;
  propertyId: string;
  units: number;
  basePriceMinor: number | null;
  currency: string | null;
  timeZone: string;
}

/** One night of a request: absent fields stay as they are; `priceMinor: null` clears the override. */
export interface NightUpdate {
  date: IsoDate;
  blocked?: number;
  priceMinor?: number | null;
}

/** A stored inventory_nights row (a missing row is the room type's defaults). */
export interface StoredNight {
  night: IsoDate;
  capacity: number;
  booked: number;
  blocked: number;
  priceMinor: number | null;
}

/** A night whose stored values change, with its values after the update. */
export interface NightWrite {
  date: IsoDate;
  blocked: number;
  priceMinor: number | null;
  blockedChanged: boolean;
  /** The stored override changes (NULL ↔ value, or another value). */
  priceChanged: boolean;
}

export interface CalendarConflict {
  /** Index of the night in the request. */
  index: number;
  date: IsoDate;
  capacity: number;
  booked: number;
  blocked: number;
}

export interface CalendarPlan {
  writes: NightWrite[];
  /** Nights whose blocked units change, ascending. */
  availabilityChanged: IsoDate[];
  /** Nights whose effective price (override ?? base) changes, ascending. */
  priceChanged: IsoDate[];
  /** Nights that would hold more than their capacity: the request must not be applied. */
  conflicts: CalendarConflict[];
}

/** Dates a calendar update may touch: from yesterday (property time) to today + horizon. */
export function calendarWindow(
  timeZone: string,
  nowMs: number,
  horizonDays: number,
): { from: IsoDate; to: IsoDate } {
  const today = localToday(timeZone, nowMs);
  return { from: addDays(today, -1), to: addDays(today, horizonDays) };
}

/** The effective nightly price: the night's override, else the room type's base price. */
export function effectivePrice(override: number | null, basePriceMinor: number | null) {
  return override ?? basePriceMinor;
}

/** Decide what changes. Pure: `stored` holds the ledger rows of the requested dates that exist. */
export function planCalendarUpdate(
  roomType: Pick<CalendarRoomType, "units" | "basePriceMinor">,
  stored: ReadonlyMap<IsoDate, StoredNight>,
  updates: readonly NightUpdate[],
): CalendarPlan {
  const writes: NightWrite[] = [];
  const availabilityChanged: IsoDate[] = [];
  const priceChanged: IsoDate[] = [];
  const conflicts: CalendarConflict[] = [];
  updates.forEach((u, index) => {
    const current = stored.get(u.date) ?? {
      night: u.date,
      capacity: roomType.units,
      booked: 0,
      blocked: 0,
      priceMinor: null,
    };
    const blocked = u.blocked ?? current.blocked;
    const priceMinor = u.priceMinor === undefined ? current.priceMinor : u.priceMinor;
    const blockedChanged = blocked !== current.blocked;
    const storedPriceChanged = priceMinor !== current.priceMinor;
    if (blockedChanged && current.booked + blocked > current.capacity) {
      conflicts.push({
        index,
        date: u.date,
        capacity: current.capacity,
        booked: current.booked,
        blocked,
      });
    }
    if (!blockedChanged && !storedPriceChanged) return;
    writes.push({
      date: u.date,
      blocked,
      priceMinor,
      blockedChanged,
      priceChanged: storedPriceChanged,
    });
    if (blockedChanged) availabilityChanged.push(u.date);
    if (
      effectivePrice(priceMinor, roomType.basePriceMinor) !==
      effectivePrice(current.priceMinor, roomType.basePriceMinor)
    ) {
      priceChanged.push(u.date);
    }
  });
  availabilityChanged.sort();
  priceChanged.sort();
  return { writes, availabilityChanged, priceChanged, conflicts };
}

/** The room type, only if it is the tenant's; with its property's time zone. */
export async function loadCalendarRoomType(
  db: D1Database,
  tenantId: string,
  roomTypeId: string,
): Promise<CalendarRoomType | null> {
  return db
    .prepare(
      `SELECT rt.id, rt.tenant_id AS tenantId, rt.property_id AS propertyId, rt.units,
              rt.base_price_minor AS basePriceMinor, rt.currency, p.time_zone AS timeZone
       FROM room_types rt JOIN properties p ON p.id = rt.property_id AND p.tenant_id = rt.tenant_id
       WHERE rt.id = ? AND rt.tenant_id = ?`,
    )
    .bind(roomTypeId, tenantId)
    .first<CalendarRoomType>();
}

const NIGHT_COLUMNS = `night, capacity, booked, blocked, price_minor AS priceMinor`;

/** The stored ledger rows of these dates (one query; the dates travel as one JSON parameter). */
export async function loadStoredNights(
  db: D1Database,
  roomTypeId: string,
  dates: readonly IsoDate[],
): Promise<Map<IsoDate, StoredNight>> {
  const rows = await db
    .prepare(
      `SELECT ${NIGHT_COLUMNS} FROM inventory_nights
       WHERE room_type_id = ? AND night IN (SELECT value FROM json_each(?))`,
    )
    .bind(roomTypeId, JSON.stringify(dates))
    .all<StoredNight>();
  return new Map(rows.results.map((r) => [r.night, r]));
}

/** The stored ledger rows of [from, to]. */
export async function loadNightsBetween(
  db: D1Database,
  roomTypeId: string,
  from: IsoDate,
  to: IsoDate,
): Promise<Map<IsoDate, StoredNight>> {
  const rows = await db
    .prepare(
      `SELECT ${NIGHT_COLUMNS} FROM inventory_nights
       WHERE room_type_id = ? AND night BETWEEN ? AND ? ORDER BY night`,
    )
    .bind(roomTypeId, from, to)
    .all<StoredNight>();
  return new Map(rows.results.map((r) => [r.night, r]));
}

/**
 * Upsert the nights whose column changes. A missing row is created with capacity = units and
 * booked 0; an existing row gets only the changed column, so a booking's concurrent `booked`
 * move is never overwritten. The ledger's CHECK fails the statement (and so the whole batch) if
 * a night would hold more than its capacity.
 */
function upsertStatement(
  db: D1Database,
  roomType: CalendarRoomType,
  writes: NightWrite[],
  column: "blocked" | "price_minor",
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, price_minor, updated_at)
       SELECT ?, ?, json_extract(value, '$[0]'), ?, 0, json_extract(value, '$[1]'), json_extract(value, '$[2]'), ?
       FROM json_each(?) WHERE true
       ON CONFLICT(room_type_id, night) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at`,
    )
    .bind(
      roomType.tenantId,
      roomType.id,
      roomType.units,
      now,
      JSON.stringify(writes.map((w) => [w.date, w.blocked, w.priceMinor])),
    );
}

/** Outbox rows for every channel (no source platform, include_source 1), all in one statement. */
function outboxStatement(
  db: D1Database,
  roomType: CalendarRoomType,
  rows: Array<{ range: DateRange; aspect: CalendarAspect }>,
  causeKey: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO outbox (id, tenant_id, property_id, room_type_id, start_date, end_date, source_platform,
         include_source, cause_key, aspect, created_at)
       SELECT json_extract(value, '$[0]'), ?, ?, ?, json_extract(value, '$[1]'), json_extract(value, '$[2]'),
         NULL, 1, ?, json_extract(value, '$[3]'), ?
       FROM json_each(?)`,
    )
    .bind(
      roomType.tenantId,
      roomType.propertyId,
      roomType.id,
      causeKey,
      now,
      JSON.stringify(rows.map((r) => [newId("obx"), r.range.start, r.range.end, r.aspect])),
    );
}

/** The outbox ranges of a plan: coalesced runs of changed dates, per aspect. */
export function outboxRanges(
  plan: Pick<CalendarPlan, "availabilityChanged" | "priceChanged">,
): Array<{ range: DateRange; aspect: CalendarAspect }> {
  return [
    ...datesToRanges(plan.availabilityChanged).map((range) => ({
      range,
      aspect: "availability" as const,
    })),
    ...datesToRanges(plan.priceChanged).map((range) => ({ range, aspect: "price" as const })),
  ];
}

/** Every statement of the update's one batch (empty when nothing changes). */
export function calendarStatements(
  db: D1Database,
  roomType: CalendarRoomType,
  plan: CalendarPlan,
  causeKey: string,
  now: number,
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const blocked = plan.writes.filter((w) => w.blockedChanged);
  const priced = plan.writes.filter((w) => w.priceChanged);
  if (blocked.length > 0) statements.push(upsertStatement(db, roomType, blocked, "blocked", now));
  if (priced.length > 0) statements.push(upsertStatement(db, roomType, priced, "price_minor", now));
  const outbox = outboxRanges(plan);
  if (outbox.length > 0) statements.push(outboxStatement(db, roomType, outbox, causeKey, now));
  return statements;
}

/** Nights that would hold more than their capacity; nothing of the request was applied. */
export class CalendarConflictError extends Error {
  override name = "CalendarConflictError";
  constructor(readonly conflicts: CalendarConflict[]) {
    super(
      `nights over capacity: ${conflicts
        .map(
          (c) => `${c.date} (booked ${c.booked} + blocked ${c.blocked} > capacity ${c.capacity})`,
        )
        .join(", ")}`,
    );
  }
}

function isCapacityViolation(err: unknown): boolean {
  const texts = [err, (err as { cause?: unknown } | null)?.cause].map((e) =>
    e instanceof Error ? e.message : String(e),
  );
  return texts.some((t) => t.includes("inventory_nights_within_capacity"));
}

export interface CalendarUpdateResult {
  causeKey: string;
  plan: CalendarPlan;
}

/**
 * Read, plan and apply an update in one batch. Throws CalendarConflictError, having written
 * nothing, when a night would be over capacity: found by the check before writing, or by the
 * ledger's CHECK when a booking slipped in between (the batch then rolls back as a whole).
 */
export async function applyCalendarUpdate(
  db: D1Database,
  roomType: CalendarRoomType,
  updates: readonly NightUpdate[],
  now: number,
): Promise<CalendarUpdateResult> {
  const causeKey = `calendar:${crypto.randomUUID()}`;
  const stored = await loadStoredNights(
    db,
    roomType.id,
    updates.map((u) => u.date),
  );
  const plan = planCalendarUpdate(roomType, stored, updates);
  if (plan.conflicts.length > 0) throw new CalendarConflictError(plan.conflicts);
  const statements = calendarStatements(db, roomType, plan, causeKey, now);
  if (statements.length === 0) return { causeKey, plan };
  try {
    await db.batch(statements);
  } catch (err) {
    if (!isCapacityViolation(err)) throw err;
    // Re-read to name the nights that filled up since the check.
    const current = await loadStoredNights(
      db,
      roomType.id,
      updates.map((u) => u.date),
    );
    const replanned = planCalendarUpdate(roomType, current, updates).conflicts;
    throw new CalendarConflictError(
      replanned.length > 0
        ? replanned
        : plan.writes
            .filter((w) => w.blockedChanged)
            .map((w) => ({
              index: updates.findIndex((u) => u.date === w.date),
              date: w.date,
              capacity: stored.get(w.date)?.capacity ?? roomType.units,
              booked: stored.get(w.date)?.booked ?? 0,
              blocked: w.blocked,
            })),
    );
  }
  return { causeKey, plan };
}
