import type { Platform } from "../platforms/ids";

export interface ConnectionRow {
  id: string;
  tenantId: string;
  propertyId: string;
  platform: Platform;
  externalPropertyId: string;
  status: string;
  syncDirection: string;
  syncAvailability: number;
  syncPricing: number;
  syncBookings: number;
  /** Per-connection rate limit / breaker / coalescing overrides (JSON), see gate-settings.ts. */
  gateSettings: string | null;
}

const CONNECTION_COLUMNS = `c.id, c.tenant_id AS tenantId, c.property_id AS propertyId, c.platform,
  c.external_property_id AS externalPropertyId, c.status, c.sync_direction AS syncDirection,
  c.sync_availability AS syncAvailability, c.sync_pricing AS syncPricing, c.sync_bookings AS syncBookings,
  c.gate_settings AS gateSettings`;

export function findConnectionByExternalProperty(
  db: D1Database,
  platform: Platform,
  externalPropertyId: string,
): Promise<ConnectionRow | null> {
  return db
    .prepare(
      // Live rows only: at most one per platform property (channel_connections_platform_external_uq).
      `SELECT ${CONNECTION_COLUMNS} FROM channel_connections c
       WHERE c.platform = ? AND c.external_property_id = ? AND c.deleted_at IS NULL`,
    )
    .bind(platform, externalPropertyId)
    .first<ConnectionRow>();
}

export function findConnection(
  db: D1Database,
  connectionId: string,
): Promise<ConnectionRow | null> {
  return db
    .prepare(`SELECT ${CONNECTION_COLUMNS} FROM channel_connections c WHERE c.id = ?`)
    .bind(connectionId)
    .first<ConnectionRow>();
}

/** The connection with its property's time zone (the ChannelGate's "today" is local). */
export function findConnectionWithTimeZone(
  db: D1Database,
  connectionId: string,
): Promise<(ConnectionRow & { timeZone: string }) | null> {
  return db
    .prepare(
      `SELECT ${CONNECTION_COLUMNS}, p.time_zone AS timeZone
       FROM channel_connections c JOIN properties p ON p.id = c.property_id WHERE c.id = ?`,
    )
    .bind(connectionId)
    .first<ConnectionRow & { timeZone: string }>();
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
  const row = await db
    .prepare(
      `SELECT ${CONNECTION_COLUMNS}, m.internal_id AS roomTypeId
       FROM channel_mappings m JOIN channel_connections c ON c.id = m.connection_id AND c.tenant_id = m.tenant_id
       WHERE m.platform = ? AND m.mapping_type = 'room_type' AND m.external_id = ?
         AND m.deleted_at IS NULL AND m.status = 'confirmed' AND c.deleted_at IS NULL
         ${connectionId ? "AND m.connection_id = ?" : "AND m.external_scope = ''"}`,
    )
    .bind(platform, externalRoomId, ...(connectionId ? [connectionId] : []))
    .first<ConnectionRow & { roomTypeId: string }>();
  if (!row) return null;
  const { roomTypeId, ...connection } = row;
  return { connection, roomTypeId };
}

/** Why a connection must not import bookings right now, or null if it may. */
export function inboundBlockReason(c: ConnectionRow): string | null {
  if (c.status !== "active") return `connection ${c.id} is ${c.status}`;
  if (!c.syncBookings) return `connection ${c.id} has booking sync turned off`;
  if (c.syncDirection === "outbound_only") return `connection ${c.id} is outbound_only`;
  return null;
}
