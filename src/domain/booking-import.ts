import type { Platform } from "../platforms/ids";
import { newId } from "../lib/ids";
import type { ChannelBooking } from "../platforms/contract";
import { alertStatement } from "./alerts";
import {
  affectedRanges,
  decideBookingAction,
  stayAsRanges,
  type BookingAction,
  type StoredBooking,
} from "./booking-decision";
import { datesToRanges } from "./date-ranges";
import type { DateRange, IsoDate } from "./dates";

export interface ImportScope {
  db: D1Database;
  tenantId: string;
  propertyId: string;
  connectionId: string;
  platform: Platform;
  /** Idempotency key of the event that caused this import; outbox rows carry it. */
  causeKey: string;
  now: number;
}

export type ImportOutcome =
  | "created"
  | "modified"
  | "cancelled"
  | "details_updated"
  | "stale"
  | "conflict"
  | "stored_cancelled";

export interface ImportResult {
  outcome: ImportOutcome;
  bookingId: string;
  /** Nights whose availability changed (already written to the outbox). */
  ranges: DateRange[];
}

/** The booking's channel id belongs to another tenant: never touch it. */
export class CrossTenantBookingError extends Error {
  override name = "CrossTenantBookingError";
}

interface StoredRow extends StoredBooking {
  id: string;
  tenantId: string;
  version: number;
}

const MAX_CAS_ATTEMPTS = 5;
// D1 binds at most 100 parameters per statement.
const NIGHTS_PER_UPSERT = 16; // 6 parameters a row
const NIGHTS_PER_CLAIM_ROW_INSERT = 24; // 4 parameters a row

function isCapacityViolation(err: unknown): boolean {
  return String(err).includes("inventory_nights_within_capacity");
}
/** Another writer changed the booking (guard) or inserted it first (unique index). */
function isConcurrentWrite(err: unknown): boolean {
  const s = String(err);
  return (
    s.includes("write_guards.ok") || s.includes("bookings.source, bookings.channel_booking_id")
  );
}

const STORED_COLUMNS = `id, tenant_id AS tenantId, status, room_type_id AS roomTypeId, check_in AS checkIn,
  check_out AS checkOut, channel_revision AS channelRevision, version, channel_booking_id AS channelBookingId`;

export type StoredBookingRow = StoredRow & { channelBookingId: string };

async function loadStored(scope: ImportScope, channelBookingId: string): Promise<StoredRow | null> {
  return scope.db
    .prepare(`SELECT ${STORED_COLUMNS} FROM bookings WHERE source = ? AND channel_booking_id = ?`)
    .bind(scope.platform, channelBookingId)
    .first<StoredRow>();
}

/** D1 binds at most 100 parameters per statement. */
const IDS_PER_LOOKUP = 90;

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
    const { results } = await db
      .prepare(
        `SELECT ${STORED_COLUMNS} FROM bookings
         WHERE source = ? AND channel_booking_id IN (${chunk.map(() => "?").join(", ")})`,
      )
      .bind(platform, ...chunk)
      .all<StoredBookingRow>();
    for (const r of results) out.set(r.channelBookingId, r);
  }
  return out;
}

function claimStatements(
  scope: ImportScope,
  bookingId: string,
  roomTypeId: string,
  nights: IsoDate[],
): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < nights.length; i += NIGHTS_PER_UPSERT) {
    const chunk = nights.slice(i, i + NIGHTS_PER_UPSERT);
    // The CHECK on inventory_nights fails this statement, and so the whole batch, if a night is full.
    out.push(
      scope.db
        .prepare(
          `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
           VALUES ${chunk.map(() => "(?, ?, ?, (SELECT units FROM room_types WHERE id = ?), 1, 0, ?)").join(", ")}
           ON CONFLICT(room_type_id, night) DO UPDATE SET booked = booked + 1, updated_at = excluded.updated_at`,
        )
        .bind(...chunk.flatMap((n) => [scope.tenantId, roomTypeId, n, roomTypeId, scope.now])),
    );
  }
  for (let i = 0; i < nights.length; i += NIGHTS_PER_CLAIM_ROW_INSERT) {
    const chunk = nights.slice(i, i + NIGHTS_PER_CLAIM_ROW_INSERT);
    out.push(
      scope.db
        .prepare(
          `INSERT INTO booking_nights (booking_id, tenant_id, room_type_id, night)
           VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}`,
        )
        .bind(...chunk.flatMap((n) => [bookingId, scope.tenantId, roomTypeId, n])),
    );
  }
  return out;
}

/** Release exactly the nights recorded for the booking: running it twice releases nothing more. */
function releaseStatements(scope: ImportScope, bookingId: string): D1PreparedStatement[] {
  return [
    scope.db
      .prepare(
        `UPDATE inventory_nights SET booked = booked - 1, updated_at = ?
         WHERE (room_type_id, night) IN (SELECT room_type_id, night FROM booking_nights WHERE booking_id = ?)`,
      )
      .bind(scope.now, bookingId),
    scope.db.prepare(`DELETE FROM booking_nights WHERE booking_id = ?`).bind(bookingId),
  ];
}

function outboxStatements(
  scope: ImportScope,
  roomTypeId: string,
  ranges: DateRange[],
  includeSource: boolean,
): D1PreparedStatement[] {
  return ranges.map((r) =>
    scope.db
      .prepare(
        `INSERT INTO outbox (id, tenant_id, property_id, room_type_id, start_date, end_date, source_platform, include_source, cause_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        newId("obx"),
        scope.tenantId,
        scope.propertyId,
        roomTypeId,
        r.start,
        r.end,
        scope.platform,
        includeSource ? 1 : 0,
        scope.causeKey,
        scope.now,
      ),
  );
}

function bookingWrite(
  scope: ImportScope,
  stored: StoredRow | null,
  bookingId: string,
  b: ChannelBooking,
  roomTypeId: string,
  status: "confirmed" | "cancelled" | "conflict",
  conflictReason: string | null,
): D1PreparedStatement {
  const details = [
    b.guestName ?? null,
    b.guestCount ?? null,
    b.amountMinor ?? null,
    b.currency ?? null,
  ];
  if (stored) {
    return scope.db
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
        scope.connectionId,
        scope.now,
        bookingId,
      );
  }
  return scope.db
    .prepare(
      `INSERT INTO bookings (id, tenant_id, property_id, room_type_id, connection_id, source, channel_booking_id,
         status, check_in, check_out, guest_name, guest_count, amount_minor, currency, version, channel_revision,
         conflict_reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
    )
    .bind(
      bookingId,
      scope.tenantId,
      scope.propertyId,
      roomTypeId,
      scope.connectionId,
      scope.platform,
      b.channelBookingId,
      status,
      b.checkIn,
      b.checkOut,
      ...details,
      b.revision,
      conflictReason,
      scope.now,
      scope.now,
    );
}

/**
 * The record that this event made this change (booking_changes), in the change's own batch: it
 * survives whatever fails afterwards, so a later attempt that finds the revision stored can still
 * say the event applied it. A second attempt of the same event adds nothing.
 */
function changeStatement(
  scope: ImportScope,
  bookingId: string,
  b: ChannelBooking,
  outcome: ImportOutcome,
  status: "confirmed" | "cancelled" | "conflict",
): D1PreparedStatement {
  return scope.db
    .prepare(
      `INSERT INTO booking_changes (id, tenant_id, booking_id, event_key, outcome, status, check_in,
         check_out, channel_revision, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(booking_id, event_key) DO NOTHING`,
    )
    .bind(
      newId("bkc"),
      scope.tenantId,
      bookingId,
      scope.causeKey,
      outcome,
      status,
      b.checkIn,
      b.checkOut,
      b.revision,
      scope.now,
    );
}

/** Wrap statements in a version guard so the batch applies only if nobody wrote in between. */
function guarded(
  scope: ImportScope,
  stored: StoredRow | null,
  statements: D1PreparedStatement[],
): D1PreparedStatement[] {
  if (!stored) return statements;
  const token = newId("grd");
  return [
    scope.db
      .prepare(
        `INSERT INTO write_guards (token, ok) VALUES (?, (SELECT 1 FROM bookings WHERE id = ? AND version = ?))`,
      )
      .bind(token, stored.id, stored.version),
    ...statements,
    scope.db.prepare(`DELETE FROM write_guards WHERE token = ?`).bind(token),
  ];
}

function outcomeOf(action: BookingAction, stored: StoredRow | null): ImportOutcome {
  switch (action.kind) {
    case "stale":
      return "stale";
    case "update_details":
      return "details_updated";
    case "store_without_nights":
      return stored ? "cancelled" : "stored_cancelled";
    case "release":
      return "cancelled";
    case "claim":
      return stored ? "modified" : "created";
  }
}

async function fullNights(scope: ImportScope, roomTypeId: string, nights: IsoDate[]) {
  const full: IsoDate[] = [];
  for (let i = 0; i < nights.length; i += 90) {
    const chunk = nights.slice(i, i + 90);
    const rows = await scope.db
      .prepare(
        `SELECT night FROM inventory_nights WHERE room_type_id = ? AND booked + blocked >= capacity
         AND night IN (${chunk.map(() => "?").join(",")}) ORDER BY night`,
      )
      .bind(roomTypeId, ...chunk)
      .all<{ night: string }>();
    full.push(...rows.results.map((r) => r.night));
  }
  return full;
}

/**
 * Store a channel booking and move its nights in the ledger, atomically and idempotently.
 * A booking whose nights are already taken is stored as a conflict with an alert: never dropped,
 * never double-sold.
 */
export async function importChannelBooking(
  scope: ImportScope,
  booking: ChannelBooking,
  roomTypeId: string,
  /** The stored row as just read by loadStoredBookings (null: none), to skip reading it again. */
  preloaded?: StoredRow | null,
): Promise<ImportResult> {
  for (let attempt = 1; ; attempt++) {
    const stored =
      attempt === 1 && preloaded !== undefined
        ? preloaded
        : await loadStored(scope, booking.channelBookingId);
    if (stored && stored.tenantId !== scope.tenantId) {
      throw new CrossTenantBookingError(
        `${scope.platform} booking ${booking.channelBookingId} belongs to another tenant`,
      );
    }
    const bookingId = stored?.id ?? newId("bk");
    const action = decideBookingAction(stored, { ...booking, roomTypeId });
    if (action.kind === "stale") return { outcome: "stale", bookingId, ranges: [] };

    const ranges = affectedRanges(action);
    const status =
      action.kind === "claim" || action.kind === "update_details" ? "confirmed" : "cancelled";
    // The booking row first: booking_nights references it.
    const statements: D1PreparedStatement[] = [
      bookingWrite(scope, stored, bookingId, booking, roomTypeId, status, null),
    ];
    if (
      (action.kind === "claim" || action.kind === "release") &&
      action.release.length > 0 &&
      stored
    ) {
      statements.push(...releaseStatements(scope, bookingId));
    }
    if (action.kind === "claim") {
      statements.push(...claimStatements(scope, bookingId, roomTypeId, action.claim));
    }
    // Ranges are per room type; a move between room types touches both.
    const oldRoomType = stored?.roomTypeId ?? roomTypeId;
    if (action.kind === "claim" && stored && oldRoomType !== roomTypeId) {
      statements.push(
        ...outboxStatements(scope, oldRoomType, datesToRanges(action.release), false),
      );
      statements.push(...outboxStatements(scope, roomTypeId, datesToRanges(action.claim), false));
    } else {
      statements.push(...outboxStatements(scope, oldRoomType, ranges, false));
    }

    const outcome = outcomeOf(action, stored);
    statements.push(changeStatement(scope, bookingId, booking, outcome, status));
    try {
      await scope.db.batch(guarded(scope, stored, statements));
      return { outcome, bookingId, ranges };
    } catch (err) {
      if (isConcurrentWrite(err) && attempt < MAX_CAS_ATTEMPTS) continue;
      if (!(isCapacityViolation(err) && action.kind === "claim")) throw err;
    }

    // The stay does not fit: store it as a conflict holding no nights (and free what it held).
    const taken = await fullNights(scope, roomTypeId, action.claim);
    const reason = `nights already taken: ${datesToRanges(taken)
      .map((r) => (r.start === r.end ? r.start : `${r.start}..${r.end}`))
      .join(", ")}`;
    const conflictStatements: D1PreparedStatement[] = [];
    const freed = stored && action.release.length > 0 ? datesToRanges(action.release) : [];
    if (freed.length > 0) conflictStatements.push(...releaseStatements(scope, bookingId));
    conflictStatements.push(
      bookingWrite(scope, stored, bookingId, booking, roomTypeId, "conflict", reason),
      changeStatement(scope, bookingId, booking, "conflict", "conflict"),
      ...outboxStatements(scope, oldRoomType, freed, false),
      // The source platform sold nights it should have shown closed: push the truth to it too.
      ...outboxStatements(scope, roomTypeId, stayAsRanges(booking.checkIn, booking.checkOut), true),
      alertStatement(
        scope.db,
        {
          tenantId: scope.tenantId,
          kind: "booking_conflict",
          severity: "critical",
          message: `${scope.platform} booking ${booking.channelBookingId} (${booking.checkIn} → ${booking.checkOut}) overlaps nights already sold: ${reason}`,
          details: {
            bookingId,
            platform: scope.platform,
            channelBookingId: booking.channelBookingId,
            roomTypeId,
            checkIn: booking.checkIn,
            checkOut: booking.checkOut,
            takenNights: taken,
          },
          dedupeKey: `booking_conflict:${scope.platform}:${booking.channelBookingId}:${booking.revision}`,
        },
        scope.now,
      ),
    );
    try {
      await scope.db.batch(guarded(scope, stored, conflictStatements));
      return {
        outcome: "conflict",
        bookingId,
        ranges: [...freed, ...stayAsRanges(booking.checkIn, booking.checkOut)],
      };
    } catch (err) {
      if (isConcurrentWrite(err) && attempt < MAX_CAS_ATTEMPTS) continue;
      throw err;
    }
  }
}
