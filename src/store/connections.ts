import { and, eq, isNull, type SQL } from "drizzle-orm";
import { orm } from "./db";
import { channelConnections, channelMappings, properties } from "./schema/schema";
import type { Platform } from "./schema/channels.schema";

/**
 * channel_connections: the one connection row type of the engine and the lookups that load it.
 * Every read a caller 404s on names the tenant (`own*()`); the unscoped lookups serve callers that
 * already hold a connection id from a trusted place (a queue message, the gate's own key) or find
 * the connection by the platform's id (an inbound webhook, which names no tenant).
 */

export type ConnectionRecord = typeof channelConnections.$inferSelect;

/** The connection as the engine works with it: no credentials, no bookkeeping timestamps. */
export type ConnectionRow = Pick<
  ConnectionRecord,
  | "id"
  | "tenantId"
  | "propertyId"
  | "platform"
  | "externalPropertyId"
  | "status"
  | "syncDirection"
  | "syncAvailability"
  | "syncPricing"
  | "syncBookings"
  /** Per-connection rate limit / breaker / coalescing overrides (JSON), see gate-settings.ts. */
  | "gateSettings"
>;

const c = channelConnections;

/** The columns of a ConnectionRow, for every select that returns one. */
export const connectionColumns = {
  id: c.id,
  tenantId: c.tenantId,
  propertyId: c.propertyId,
  platform: c.platform,
  externalPropertyId: c.externalPropertyId,
  status: c.status,
  syncDirection: c.syncDirection,
  syncAvailability: c.syncAvailability,
  syncPricing: c.syncPricing,
  syncBookings: c.syncBookings,
  gateSettings: c.gateSettings,
};

async function oneConnection(
  db: D1Database,
  where: SQL | undefined,
): Promise<ConnectionRow | null> {
  const row = await orm(db).select(connectionColumns).from(c).where(where).get();
  return row ?? null;
}

/** The live connection of a platform property: at most one (channel_connections_platform_external_uq). */
export function findConnectionByExternalProperty(
  db: D1Database,
  platform: Platform,
  externalPropertyId: string,
): Promise<ConnectionRow | null> {
  return oneConnection(
    db,
    and(
      eq(c.platform, platform),
      eq(c.externalPropertyId, externalPropertyId),
      isNull(c.deletedAt),
    ),
  );
}

/** The connection by id, deleted or not (the caller holds the id from a trusted place). */
export function findConnection(
  db: D1Database,
  connectionId: string,
): Promise<ConnectionRow | null> {
  return oneConnection(db, eq(c.id, connectionId));
}

/** The tenant's connection with when it was deleted (null: live); null when not the tenant's. */
export async function ownConnection(
  db: D1Database,
  tenantId: string,
  connectionId: string,
): Promise<(ConnectionRow & { deletedAt: number | null }) | null> {
  const row = await orm(db)
    .select({ ...connectionColumns, deletedAt: c.deletedAt })
    .from(c)
    .where(and(eq(c.id, connectionId), eq(c.tenantId, tenantId)))
    .get();
  return row ?? null;
}

/** The connection with its property's time zone (the ChannelGate's "today" is local). */
export async function findConnectionWithTimeZone(
  db: D1Database,
  connectionId: string,
): Promise<(ConnectionRow & { timeZone: string }) | null> {
  const row = await orm(db)
    .select({ ...connectionColumns, timeZone: properties.timeZone })
    .from(c)
    .innerJoin(properties, eq(properties.id, c.propertyId))
    .where(eq(c.id, connectionId))
    .get();
  return row ?? null;
}

/**
 * A platform room/listing id → the connection and internal room type it is mapped to: its one
 * live, platform-confirmed owner (the owner index allows no second live row for a platform-wide
 * id), never "the first row found". Without a connection only platform-wide ids resolve.
 */
export async function findRoomMapping(
  db: D1Database,
  platform: Platform,
  externalRoomId: string,
  connectionId?: string,
): Promise<{ connection: ConnectionRow; roomTypeId: string } | null> {
  const m = channelMappings;
  const row = await orm(db)
    .select({ ...connectionColumns, roomTypeId: m.internalId })
    .from(m)
    .innerJoin(c, and(eq(c.id, m.connectionId), eq(c.tenantId, m.tenantId)))
    .where(
      and(
        eq(m.platform, platform),
        eq(m.mappingType, "room_type"),
        eq(m.externalId, externalRoomId),
        isNull(m.deletedAt),
        eq(m.status, "confirmed"),
        isNull(c.deletedAt),
        connectionId ? eq(m.connectionId, connectionId) : eq(m.externalScope, ""),
      ),
    )
    .get();
  if (!row) return null;
  const { roomTypeId, ...connection } = row;
  return { connection, roomTypeId };
}

/** The connection's own encrypted credentials, null when it stores none (or is not the tenant's). */
export async function connectionCiphertext(
  db: D1Database,
  tenantId: string,
  connectionId: string,
): Promise<string | null> {
  const row = await orm(db)
    .select({ ciphertext: c.credentialsCiphertext })
    .from(c)
    .where(and(eq(c.id, connectionId), eq(c.tenantId, tenantId)))
    .get();
  return row?.ciphertext ?? null;
}
