import type { Platform } from "../../store/schema/channels.schema";
import { alertStatement } from "../../store/alerts";
import {
  CrossTenantBookingError,
  importChannelBooking,
  type ImportResult,
} from "../../services/booking-import";
import { loadStoredBookings, unmappedBookingStatement } from "../../store/bookings";
import { confirmedRooms } from "../../store/confirmed-mappings";
import type { ConnectionRow } from "../../store/connections";
import type { D1Meter } from "../../store/d1-meter";
import type { ChannelBooking } from "../../platforms/contract";
import { PermanentError } from "../retry-policy";

/**
 * Store the bookings a platform handed back, each in its own all-or-nothing ledger batch, within
 * a budget of D1 calls. Lookups are made once for the whole pull (the connection's room mappings;
 * the stored rows, 90 ids a query); each booking then costs one batch, a few more only on a
 * conflict or a concurrent write. Bookings past the budget are handed back untouched, so the
 * caller can continue them in another message: no invocation exceeds D1's 1,000 calls, however
 * many reservations a platform returns.
 */

/** The most calls one booking can take: a CAS retry re-reads and re-writes; a conflict reads its nights. */
export const CALLS_PER_BOOKING = 8;

export interface ImportInput {
  db: D1Database;
  connection: ConnectionRow;
  platform: Platform;
  /** The event's idempotency key: outbox rows and booking_changes carry it. */
  key: string;
  bookings: ChannelBooking[];
  /** A listing the webhook already resolved (its mapping was just read). */
  knownRoom?: { externalRoomId: string; roomTypeId: string };
  meter: D1Meter;
  /** Stop before the meter would pass this many calls. */
  budget: number;
  now: () => number;
}

export interface ImportRun {
  results: Array<ImportResult & { channelBookingId: string }>;
  /** External rooms of bookings stored as unmapped (holding no nights, not acknowledged). */
  unmapped: string[];
  /** Not looked at: past the budget. */
  remaining: ChannelBooking[];
}

export async function importBookings(input: ImportInput): Promise<ImportRun> {
  const { db, connection, platform, meter } = input;
  const run: ImportRun = { results: [], unmapped: [], remaining: [] };
  if (input.bookings.length === 0) return run;
  const rooms = await confirmedRooms(db, connection.id);
  if (input.knownRoom) rooms.set(input.knownRoom.externalRoomId, input.knownRoom.roomTypeId);
  const stored = await loadStoredBookings(
    db,
    platform,
    input.bookings.map((b) => b.channelBookingId),
  );
  const unmappedRows: D1PreparedStatement[] = [];
  for (const [i, booking] of input.bookings.entries()) {
    if (meter.calls + CALLS_PER_BOOKING > input.budget) {
      run.remaining = input.bookings.slice(i);
      break;
    }
    const roomTypeId = rooms.get(booking.externalRoomId);
    if (!roomTypeId) {
      // Stored as `unmapped` (holding no nights) and not acknowledged, so the platform offers it
      // again; once the room is mapped, the replay's pull imports it.
      unmappedRows.push(unmappedBookingStatement(db, connection, booking, input.now()));
      run.unmapped.push(booking.externalRoomId);
      continue;
    }
    try {
      const scope = {
        db,
        tenantId: connection.tenantId,
        propertyId: connection.propertyId,
        connectionId: connection.id,
        platform,
        causeKey: input.key,
        now: input.now(),
      };
      const row = stored.get(booking.channelBookingId) ?? null;
      const result = await importChannelBooking(scope, booking, roomTypeId, row);
      run.results.push({ ...result, channelBookingId: booking.channelBookingId });
    } catch (err) {
      if (err instanceof CrossTenantBookingError) throw new PermanentError(err.message);
      throw err;
    }
  }
  const alerts = [...new Set(run.unmapped)].map((room) =>
    alertStatement(
      db,
      {
        tenantId: connection.tenantId,
        kind: "unmapped_inbound",
        severity: "warning",
        message: `${platform} booking for unmapped room ${room} on connection ${connection.id}`,
        details: { key: input.key, room },
        dedupeKey: `unmapped_inbound:${connection.id}:${room}`,
      },
      input.now(),
    ),
  );
  if (unmappedRows.length + alerts.length > 0) await db.batch([...unmappedRows, ...alerts]);
  return run;
}
