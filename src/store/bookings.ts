import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { alertStatement } from "./alerts";
import type { LedgerStep, StoredBookingRow } from "../domain/booking-import";
import type { IsoDate } from "../domain/dates";
import { newId } from "../lib/ids";
import type { ChannelBooking } from "../platforms/contract";
import type { Platform } from "../platforms/ids";
import { orm } from "./db";
import { outboxStatements } from "./outbox";
import { bookingChanges, bookings, inventoryNights } from "./schema/schema";

/**
 * bookings, booking_nights, inventory_nights, booking_changes: the ledger. Plain reads are Drizzle
 * builders. The writes stay raw D1 statements because the all-or-nothing batch is the design: a
 * booking's row, its nights (the capacity CHECK on inventory_nights fails the whole batch if one
 * night is full), its outbox rows, its change record and the write guard's compare-and-swap on
 * the stored version go to D1 in ONE `db.batch([...])`, in this order, beside statements of other
 * modules (alerts, sync logs), with multi-row VALUES chunked to D1's 100 bound parameters.
 */

// D1 binds at most 100 parameters per statement.
const NIGHTS_PER_UPSERT = 16; // 6 parameters a row
const NIGHTS_PER_CLAIM_ROW_INSERT = 24; // 4 parameters a row
const IDS_PER_LOOKUP = 90;

const storedColumns = {
  id: bookings.id,
  tenantId: bookings.tenantId,
  status: bookings.status,
  roomTypeId: bookings.roomTypeId,
  checkIn: bookings.checkIn,
  checkOut: bookings.checkOut,
  channelRevision: bookings.channelRevision,
  version: bookings.version,
  channelBookingId: bookings.channelBookingId,
};

/** The stored row of a channel booking (any tenant: the caller refuses another tenant's). */
export async function loadStoredBooking(
  db: D1Database,
  platform: Platform,
  channelBookingId: string,
): Promise<StoredBookingRow | null> {
  const row = await orm(db)
    .select(storedColumns)
    .from(bookings)
    .where(and(eq(bookings.source, platform), eq(bookings.channelBookingId, channelBookingId)))
    .get();
  // An unmapped booking has no room type yet; its status says so and the decision reads that.
  return (row as StoredBookingRow | undefined) ?? null;
}

/**
 * The stored rows of many channel bookings at once (a pull's worth), in one query per 90 ids:
 * an import given its row need not read it again (a large pull would otherwise read one by one).
 */
export async function loadStoredBookings(
  db: D1Database,
  platform: Platform,
  channelBookingIds: readonly string[],
): Promise<Map<string, StoredBookingRow>> {
  const out = new Map<string, StoredBookingRow>();
  const ids = [...new Set(channelBookingIds)];
  for (let i = 0; i < ids.length; i += IDS_PER_LOOKUP) {
    const chunk = ids.slice(i, i + IDS_PER_LOOKUP);
    const rows = await orm(db)
      .select(storedColumns)
      .from(bookings)
      .where(and(eq(bookings.source, platform), inArray(bookings.channelBookingId, chunk)));
    for (const r of rows as StoredBookingRow[]) out.set(r.channelBookingId, r);
  }
  return out;
}

/** Which of these nights of the room type are full (booked + blocked reach capacity), in order. */
export async function fullNights(
  db: D1Database,
  roomTypeId: string,
  nights: IsoDate[],
): Promise<IsoDate[]> {
  const full: IsoDate[] = [];
  const n = inventoryNights;
  for (let i = 0; i < nights.length; i += IDS_PER_LOOKUP) {
    const chunk = nights.slice(i, i + IDS_PER_LOOKUP);
    const rows = await orm(db)
      .select({ night: n.night })
      .from(n)
      .where(
        and(
          eq(n.roomTypeId, roomTypeId),
          sql`${n.booked} + ${n.blocked} >= ${n.capacity}`,
          inArray(n.night, chunk),
        ),
      )
      .orderBy(asc(n.night));
    full.push(...rows.map((r) => r.night));
  }
  return full;
}

/** The booking changes an event applied, in any attempt (booking_changes). */
export function changesMadeBy(
  db: D1Database,
  key: string,
): Promise<Array<{ channelBookingId: string; outcome: string }>> {
  const ch = bookingChanges;
  return orm(db)
    .select({ channelBookingId: bookings.channelBookingId, outcome: ch.outcome })
    .from(ch)
    .innerJoin(bookings, and(eq(bookings.id, ch.bookingId), eq(bookings.tenantId, ch.tenantId)))
    .where(eq(ch.eventKey, key))
    .orderBy(asc(ch.createdAt), asc(ch.id));
}

/** Everything one booking's batch writes with. */
export interface LedgerContext {
  tenantId: string;
  propertyId: string;
  connectionId: string;
  platform: Platform;
  /** Idempotency key of the event that caused this import; outbox rows carry it. */
  causeKey: string;
  now: number;
  bookingId: string;
  booking: ChannelBooking;
  roomTypeId: string;
  stored: StoredBookingRow | null;
}

/** The plan's steps as statements, in order, wrapped in the stored version's write guard. */
export function ledgerBatch(
  db: D1Database,
  ctx: LedgerContext,
  steps: LedgerStep[],
): D1PreparedStatement[] {
  return guarded(
    db,
    ctx.stored,
    steps.flatMap((step) => stepStatements(db, ctx, step)),
  );
}

function stepStatements(
  db: D1Database,
  ctx: LedgerContext,
  step: LedgerStep,
): D1PreparedStatement[] {
  switch (step.op) {
    case "write_booking":
      return [bookingWrite(db, ctx, step.status, step.conflictReason)];
    case "release":
      return releaseStatements(db, ctx);
    case "claim":
      return claimStatements(db, ctx, step.nights);
    case "outbox":
      return outboxStatements(db, {
        tenantId: ctx.tenantId,
        propertyId: ctx.propertyId,
        roomTypeId: step.roomTypeId,
        ranges: step.ranges,
        sourcePlatform: ctx.platform,
        includeSource: step.includeSource,
        causeKey: ctx.causeKey,
        now: ctx.now,
      });
    case "change":
      return [changeStatement(db, ctx, step.outcome, step.status)];
    case "alert":
      return [alertStatement(db, step.alert, ctx.now)];
  }
}

function claimStatements(
  db: D1Database,
  ctx: LedgerContext,
  nights: IsoDate[],
): D1PreparedStatement[] {
  const { tenantId, roomTypeId, bookingId, now } = ctx;
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < nights.length; i += NIGHTS_PER_UPSERT) {
    const chunk = nights.slice(i, i + NIGHTS_PER_UPSERT);
    // The CHECK on inventory_nights fails this statement, and so the whole batch, if a night is full.
    out.push(
      db
        .prepare(
          `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
           VALUES ${chunk.map(() => "(?, ?, ?, (SELECT units FROM room_types WHERE id = ?), 1, 0, ?)").join(", ")}
           ON CONFLICT(room_type_id, night) DO UPDATE SET booked = booked + 1, updated_at = excluded.updated_at`,
        )
        .bind(...chunk.flatMap((n) => [tenantId, roomTypeId, n, roomTypeId, now])),
    );
  }
  for (let i = 0; i < nights.length; i += NIGHTS_PER_CLAIM_ROW_INSERT) {
    const chunk = nights.slice(i, i + NIGHTS_PER_CLAIM_ROW_INSERT);
    out.push(
      db
        .prepare(
          `INSERT INTO booking_nights (booking_id, tenant_id, room_type_id, night)
           VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}`,
        )
        .bind(...chunk.flatMap((n) => [bookingId, tenantId, roomTypeId, n])),
    );
  }
  return out;
}

/** Release exactly the nights recorded for the booking: running it twice releases nothing more. */
function releaseStatements(db: D1Database, ctx: LedgerContext): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE inventory_nights SET booked = booked - 1, updated_at = ?
         WHERE (room_type_id, night) IN (SELECT room_type_id, night FROM booking_nights WHERE booking_id = ?)`,
      )
      .bind(ctx.now, ctx.bookingId),
    db.prepare(`DELETE FROM booking_nights WHERE booking_id = ?`).bind(ctx.bookingId),
  ];
}

function bookingWrite(
  db: D1Database,
  ctx: LedgerContext,
  status: string,
  conflictReason: string | null,
): D1PreparedStatement {
  const { booking: b, roomTypeId, now } = ctx;
  const details = [
    b.guestName ?? null,
    b.guestCount ?? null,
    b.amountMinor ?? null,
    b.currency ?? null,
  ];
  if (ctx.stored) {
    return db
      .prepare(
        `UPDATE bookings SET status = ?, room_type_id = ?, check_in = ?, check_out = ?, guest_name = ?,
           guest_count = ?, amount_minor = ?, currency = ?, channel_revision = ?, conflict_reason = ?,
           connection_id = ?, version = version + 1, updated_at = ?
         WHERE id = ?`,
      )
      .bind(
        status,
        roomTypeId,
        b.checkIn,
        b.checkOut,
        ...details,
        b.revision,
        conflictReason,
        ctx.connectionId,
        now,
        ctx.bookingId,
      );
  }
  return db
    .prepare(
      `INSERT INTO bookings (id, tenant_id, property_id, room_type_id, connection_id, source, channel_booking_id,
         status, check_in, check_out, guest_name, guest_count, amount_minor, currency, version, channel_revision,
         conflict_reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
    )
    .bind(
      ctx.bookingId,
      ctx.tenantId,
      ctx.propertyId,
      roomTypeId,
      ctx.connectionId,
      ctx.platform,
      b.channelBookingId,
      status,
      b.checkIn,
      b.checkOut,
      ...details,
      b.revision,
      conflictReason,
      now,
      now,
    );
}

/**
 * The record that this event made this change (booking_changes), in the change's own batch: it
 * survives whatever fails afterwards, so a later attempt that finds the revision stored can still
 * say the event applied it. A second attempt of the same event adds nothing.
 */
function changeStatement(
  db: D1Database,
  ctx: LedgerContext,
  outcome: string,
  status: string,
): D1PreparedStatement {
  const b = ctx.booking;
  return db
    .prepare(
      `INSERT INTO booking_changes (id, tenant_id, booking_id, event_key, outcome, status, check_in,
         check_out, channel_revision, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(booking_id, event_key) DO NOTHING`,
    )
    .bind(
      newId("bkc"),
      ctx.tenantId,
      ctx.bookingId,
      ctx.causeKey,
      outcome,
      status,
      b.checkIn,
      b.checkOut,
      b.revision,
      ctx.now,
    );
}

/** Wrap statements in a version guard so the batch applies only if nobody wrote in between. */
function guarded(
  db: D1Database,
  stored: StoredBookingRow | null,
  statements: D1PreparedStatement[],
): D1PreparedStatement[] {
  if (!stored) return statements;
  const token = newId("grd");
  return [
    db
      .prepare(
        `INSERT INTO write_guards (token, ok) VALUES (?, (SELECT 1 FROM bookings WHERE id = ? AND version = ?))`,
      )
      .bind(token, stored.id, stored.version),
    ...statements,
    db.prepare(`DELETE FROM write_guards WHERE token = ?`).bind(token),
  ];
}

/** An OTA booking for a room that is not mapped yet: kept for the record, holding no nights. */
export function unmappedBookingStatement(
  db: D1Database,
  c: { id: string; tenantId: string; propertyId: string; platform: Platform },
  b: ChannelBooking,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO bookings (id, tenant_id, property_id, room_type_id, connection_id, external_room_id, source,
         channel_booking_id, status, check_in, check_out, guest_name, guest_count, amount_minor, currency,
         version, channel_revision, created_at, updated_at)
       VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 'unmapped', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT(source, channel_booking_id) DO UPDATE SET check_in = excluded.check_in,
         check_out = excluded.check_out, external_room_id = excluded.external_room_id,
         channel_revision = excluded.channel_revision, version = version + 1, updated_at = excluded.updated_at
       WHERE bookings.status = 'unmapped' AND bookings.tenant_id = excluded.tenant_id
         AND excluded.channel_revision >= bookings.channel_revision`,
    )
    .bind(
      newId("bk"),
      c.tenantId,
      c.propertyId,
      c.id,
      b.externalRoomId,
      c.platform,
      b.channelBookingId,
      b.checkIn,
      b.checkOut,
      b.guestName ?? null,
      b.guestCount ?? null,
      b.amountMinor ?? null,
      b.currency ?? null,
      b.revision,
      now,
      now,
    );
}
