import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { orm } from "./db";
import { channelMappings, ratePlans } from "./schema/schema";

/**
 * The live, platform-confirmed mappings of one connection, as the engine's own workers read them:
 * the inbound import (which room type a booking's room is) and the ChannelGate's flush (which
 * external ids it may push to). A mapping deleted, moved or still pending is never used.
 */

const m = channelMappings;

/** External room id → room type, for the connection's confirmed room mappings. */
export async function confirmedRooms(
  db: D1Database,
  connectionId: string,
): Promise<Map<string, string>> {
  const rows = await orm(db)
    .select({ externalId: m.externalId, roomTypeId: m.internalId })
    .from(m)
    .where(
      and(
        eq(m.connectionId, connectionId),
        eq(m.mappingType, "room_type"),
        isNull(m.deletedAt),
        eq(m.status, "confirmed"),
      ),
    );
  return new Map(rows.map((r) => [r.externalId, r.roomTypeId]));
}

/**
 * The connection's confirmed room and rate plan mappings, oldest first; a rate plan mapping is
 * keyed by the room type its rate plan prices.
 */
export function confirmedPushMappings(
  db: D1Database,
  connectionId: string,
): Promise<Array<{ type: string; internalId: string; externalId: string }>> {
  return orm(db)
    .select({
      type: m.mappingType,
      internalId: sql<string>`COALESCE(${ratePlans.roomTypeId}, ${m.internalId})`,
      externalId: m.externalId,
    })
    .from(m)
    .leftJoin(ratePlans, and(eq(m.mappingType, "rate_plan"), eq(ratePlans.id, m.internalId)))
    .where(
      and(
        eq(m.connectionId, connectionId),
        isNull(m.deletedAt),
        eq(m.status, "confirmed"),
        inArray(m.mappingType, ["room_type", "rate_plan"]),
      ),
    )
    .orderBy(asc(m.createdAt));
}
