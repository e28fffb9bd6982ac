import { propertyRecord, putProperty } from "../kit/store/accounts";
import { listUnits } from "../kit/store/calendar";
import { getReservation } from "../kit/store/reservations";
import type { ReservationRow, UnitRow } from "../kit/store/types";

/**
 * The Booking.com simulator's own state (PlatformState methods): hotels and whether they
 * authorise the channel, and reservations pulled and acknowledged.
 */

export interface Hotel {
  authorised: boolean;
  rooms: UnitRow[];
}

/** A hotel, or null when neither a record nor a room of it exists. */
export function hotel(sql: SqlStorage, hotelId: string): Hotel | null {
  const record = propertyRecord(sql, hotelId);
  return record ? { authorised: record.authorised, rooms: listUnits(sql, hotelId) } : null;
}

export function putHotel(sql: SqlStorage, hotelId: string, authorised: boolean | undefined): Hotel {
  const record = putProperty(sql, hotelId, { authorised });
  return { authorised: record.authorised, rooms: listUnits(sql, hotelId) };
}

/** Hotels that withdrew the channel's authorisation: their reservations are not served. */
const UNAUTHORISED = "SELECT property_id FROM properties WHERE authorised = 0";

/**
 * The pull: every reservation whose current revision is not acknowledged, of authorised
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
