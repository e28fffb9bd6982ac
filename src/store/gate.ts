import { and, between, eq, sql } from "drizzle-orm";
import { d1Statement, orm } from "./db";
import { channelConnections, inventoryNights, roomTypes } from "./schema/schema";

/**
 * What the ChannelGate reads and writes in D1 besides sync logs (store/sync-log-transitions.ts)
 * and mappings (store/confirmed-mappings.ts): the truth it pushes, and the connection's outbound
 * marks. The two channel_connections writes are D1 statements (d1Statement): they go in the gate's
 * own raw batch beside a sync-log compare-and-swap whose `meta.changes` it reads.
 */

export interface LedgerNight {
  night: string;
  available: number;
  priceMinor: number | null;
}

/** The ledger's rows of a room type for nights start..end (inclusive); an untouched night has none. */
export function ledgerNightsBetween(
  db: D1Database,
  roomTypeId: string,
  start: string,
  end: string,
): Promise<LedgerNight[]> {
  const n = inventoryNights;
  return orm(db)
    .select({
      night: n.night,
      available: sql<number>`${n.capacity} - ${n.booked} - ${n.blocked}`,
      priceMinor: n.priceMinor,
    })
    .from(n)
    .where(and(eq(n.roomTypeId, roomTypeId), between(n.night, start, end)));
}

export type PushRoomType = Pick<
  typeof roomTypes.$inferSelect,
  "units" | "basePriceMinor" | "currency"
>;

/** A room type's units, base price and currency (an untouched night's truth). */
export async function pushRoomType(db: D1Database, id: string): Promise<PushRoomType | null> {
  const row = await orm(db)
    .select({
      units: roomTypes.units,
      basePriceMinor: roomTypes.basePriceMinor,
      currency: roomTypes.currency,
    })
    .from(roomTypes)
    .where(eq(roomTypes.id, id))
    .get();
  return row ?? null;
}

/** The platform refused the credentials: an active connection becomes `expired`. */
export function expireConnectionStatement(
  db: D1Database,
  connectionId: string,
  error: string,
  now: number,
): D1PreparedStatement {
  const c = channelConnections;
  return d1Statement(
    db,
    orm(db)
      .update(c)
      .set({ status: "expired", lastError: error.slice(0, 500), updatedAt: now })
      .where(and(eq(c.id, connectionId), eq(c.status, "active"))),
  );
}

/** A push reached the platform: the connection's last outbound success. */
export function outboundSucceededStatement(
  db: D1Database,
  connectionId: string,
  at: number,
): D1PreparedStatement {
  const c = channelConnections;
  return d1Statement(
    db,
    orm(db).update(c).set({ lastOutboundSuccessAt: at }).where(eq(c.id, connectionId)),
  );
}
