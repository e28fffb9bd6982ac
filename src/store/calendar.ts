import { and, asc, between, eq, sql } from "drizzle-orm";
import { orm } from "./db";
import { inventoryNights } from "./schema/bookings.schema";
import { properties, roomTypes } from "./schema/tenancy.schema";
import {
  outboxRanges,
  type CalendarPlan,
  type CalendarRoomType,
  type NightWrite,
  type StoredNight,
} from "../domain/calendar-updates";
import type { IsoDate } from "../domain/dates";
import { newId } from "../lib/ids";

/**
 * The room-type calendar's side of the inventory ledger: the owner's blocked units and nightly
 * prices. Reads are Drizzle; the update is one all-or-nothing D1 batch of raw statements (below).
 */

/** The room type, only if it is the tenant's; with its property's time zone. */
export async function ownCalendarRoomType(
  db: D1Database,
  tenantId: string,
  roomTypeId: string,
): Promise<CalendarRoomType | undefined> {
  return orm(db)
    .select({
      id: roomTypes.id,
      tenantId: roomTypes.tenantId,
      propertyId: roomTypes.propertyId,
      units: roomTypes.units,
      basePriceMinor: roomTypes.basePriceMinor,
      currency: roomTypes.currency,
      timeZone: properties.timeZone,
    })
    .from(roomTypes)
    .innerJoin(
      properties,
      and(eq(properties.id, roomTypes.propertyId), eq(properties.tenantId, roomTypes.tenantId)),
    )
    .where(and(eq(roomTypes.id, roomTypeId), eq(roomTypes.tenantId, tenantId)))
    .get();
}

const NIGHT = {
  night: inventoryNights.night,
  capacity: inventoryNights.capacity,
  booked: inventoryNights.booked,
  blocked: inventoryNights.blocked,
  priceMinor: inventoryNights.priceMinor,
};

const byNight = (rows: StoredNight[]) => new Map(rows.map((r) => [r.night, r]));

/**
 * The stored ledger rows of these dates, in one query. The dates travel as one JSON parameter:
 * D1 binds at most 100 parameters a statement and a request carries up to 1,000 nights.
 */
export async function storedNights(
  db: D1Database,
  roomTypeId: string,
  dates: readonly IsoDate[],
): Promise<Map<IsoDate, StoredNight>> {
  const rows = await orm(db)
    .select(NIGHT)
    .from(inventoryNights)
    .where(
      and(
        eq(inventoryNights.roomTypeId, roomTypeId),
        sql`${inventoryNights.night} IN (SELECT value FROM json_each(${JSON.stringify(dates)}))`,
      ),
    );
  return byNight(rows);
}

/** The stored ledger rows of [from, to]. */
export async function nightsBetween(
  db: D1Database,
  roomTypeId: string,
  from: IsoDate,
  to: IsoDate,
): Promise<Map<IsoDate, StoredNight>> {
  const rows = await orm(db)
    .select(NIGHT)
    .from(inventoryNights)
    .where(
      and(eq(inventoryNights.roomTypeId, roomTypeId), between(inventoryNights.night, from, to)),
    )
    .orderBy(asc(inventoryNights.night));
  return byNight(rows);
}

// The update's batch is raw SQL by design: each statement carries all its nights as one JSON
// parameter (D1's 100-parameter limit against up to 1,000 nights), an upsert that sets only the
// changed column (a booking's concurrent `booked` move is never overwritten), and the whole batch
// is all or nothing, so the ledger's CHECK on one night rolls back every write with it.

/**
 * Upsert the nights whose column changes. A missing row is created with capacity = units and
 * booked 0; an existing row gets only the changed column. The ledger's CHECK fails the statement
 * (and so the whole batch) if a night would hold more than its capacity.
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
  rows: ReturnType<typeof outboxRanges>,
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
