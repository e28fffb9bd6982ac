import { and, eq, getTableColumns, isNull, ne, or, sql, type SQL } from "drizzle-orm";
import { d1Statement, orm } from "./db";
import { listPage, type Page, type PageRequest } from "./page";
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

// ---------------------------------------------------------------------------------------------
// The API's reads and writes

/** What the API shows of a connection: never the ciphertext, only whether there is one. */
export type ConnectionView = Omit<ConnectionRecord, "credentialsCiphertext" | "deletedAt"> & {
  hasCredentials: boolean;
};

const {
  credentialsCiphertext: _ciphertext,
  deletedAt: _deletedAt,
  ...VIEW_COLUMNS
} = getTableColumns(c);
const VIEW = {
  ...VIEW_COLUMNS,
  hasCredentials: sql<boolean>`(${c.credentialsCiphertext} IS NOT NULL)`
    .mapWith(Boolean)
    .as("has_credentials"),
};

/**
 * A view row as a raw `batch()` returns it (column names, SQLite values): the connection's
 * writes run in the same batch as its mappings' (store/mappings.ts hands those out as D1
 * statements), so Drizzle's own batch cannot decode them.
 */
function viewOf(raw: Record<string, unknown>): ConnectionView {
  const out: Record<string, unknown> = { hasCredentials: Boolean(raw.has_credentials) };
  for (const [key, column] of Object.entries(VIEW_COLUMNS)) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as ConnectionView;
}

const live = (tenantId: string, id: string) =>
  and(eq(c.id, id), eq(c.tenantId, tenantId), isNull(c.deletedAt));

/** The tenant's live connection as the API shows it; undefined for another tenant's or a deleted one. */
export function ownLiveConnection(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<ConnectionView | undefined> {
  return orm(db).select(VIEW).from(c).where(live(tenantId, id)).get();
}

export interface ConnectionFilter {
  propertyId?: string | undefined;
  platform?: Platform | undefined;
  status?: ConnectionRecord["status"] | undefined;
}

/** A page of the tenant's live connections, newest first. */
export function listConnections(
  db: D1Database,
  tenantId: string,
  f: ConnectionFilter,
  req: PageRequest,
): Promise<Page<ConnectionView>> {
  const filters = [
    eq(c.tenantId, tenantId),
    isNull(c.deletedAt),
    f.propertyId === undefined ? undefined : eq(c.propertyId, f.propertyId),
    f.platform === undefined ? undefined : eq(c.platform, f.platform),
    f.status === undefined ? undefined : eq(c.status, f.status),
  ];
  const key = {
    ts: c.createdAt,
    id: c.id,
    of: (r: ConnectionView) => ({ ts: r.createdAt, id: r.id }),
  };
  return listPage(req, key, (w) =>
    orm(db)
      .select(VIEW)
      .from(c)
      .where(and(...filters, w.after))
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}

/**
 * Which live rule another connection already holds for this one's key: the same property on the
 * platform, or the platform's property id (a rule across tenants); null when neither.
 */
export async function liveDuplicateOf(
  db: D1Database,
  k: { id: string; propertyId: string; platform: Platform; externalPropertyId: string },
): Promise<"property" | "external" | null> {
  const clash = await orm(db)
    .select({ propertyId: c.propertyId })
    .from(c)
    .where(
      and(
        isNull(c.deletedAt),
        ne(c.id, k.id),
        eq(c.platform, k.platform),
        or(eq(c.propertyId, k.propertyId), eq(c.externalPropertyId, k.externalPropertyId)),
      ),
    )
    .limit(1)
    .get();
  if (!clash) return null;
  return clash.propertyId === k.propertyId ? "property" : "external";
}

export type ConnectionInsert = Omit<
  typeof channelConnections.$inferInsert,
  "lastWebhookAt" | "lastOutboundSuccessAt" | "lastError" | "deletedAt"
>;

/** Insert; a unique index refuses a second live connection of the property or platform id. */
export async function insertConnection(db: D1Database, row: ConnectionInsert): Promise<void> {
  await orm(db).insert(c).values(row);
}

/** What a PATCH may change (credentials already sealed). */
export type ConnectionChanges = Partial<
  Pick<
    ConnectionRecord,
    | "externalPropertyId"
    | "status"
    | "syncDirection"
    | "syncAvailability"
    | "syncPricing"
    | "syncBookings"
    | "credentialsCiphertext"
    | "credentialsKeyId"
    | "gateSettings"
  >
> & { updatedAt: number };

/**
 * Change the tenant's live connection, in one batch with `beside` (its mappings' statements);
 * the updated view, or null when it is not (or no longer) live.
 */
export async function updateConnection(
  db: D1Database,
  tenantId: string,
  id: string,
  set: ConnectionChanges,
  beside: D1PreparedStatement[],
): Promise<ConnectionView | null> {
  const update = orm(db).update(c).set(set).where(live(tenantId, id)).returning(VIEW);
  const [updated] = await db.batch<Record<string, unknown>>([d1Statement(db, update), ...beside]);
  const raw = updated?.results[0];
  return raw ? viewOf(raw) : null;
}

/** Soft-delete and disconnect, in one batch with `beside`; the last view, or null when not live. */
export async function softDeleteConnection(
  db: D1Database,
  tenantId: string,
  id: string,
  now: number,
  beside: D1PreparedStatement[],
): Promise<ConnectionView | null> {
  const update = orm(db)
    .update(c)
    .set({ deletedAt: now, status: "disconnected", updatedAt: now })
    .where(live(tenantId, id))
    .returning(VIEW);
  const [deleted] = await db.batch<Record<string, unknown>>([d1Statement(db, update), ...beside]);
  const raw = deleted?.results[0];
  return raw ? viewOf(raw) : null;
}
