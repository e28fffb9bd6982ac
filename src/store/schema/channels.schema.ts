import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { PLATFORM_IDS, type Platform } from "../../platforms/ids";
import { MAPPING_TYPES } from "../../domain/vocabulary";
import { properties, tenants } from "./tenancy.schema";

/** The platform ids, owned by src/platforms/ (each platform's folder names its own). */
export const PLATFORMS = PLATFORM_IDS;
export type { Platform };

export const CONNECTION_STATUSES = [
  "pending",
  "active",
  "paused",
  "error",
  "disconnected",
  "expired",
] as const;
export const SYNC_DIRECTIONS = ["bidirectional", "inbound_only", "outbound_only"] as const;

/** One property on one platform. The ChannelGate Durable Object is keyed by this row's id. */
export const channelConnections = sqliteTable(
  "channel_connections",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    propertyId: text("property_id")
      .notNull()
      .references(() => properties.id),
    platform: text("platform", { enum: PLATFORMS }).notNull(),
    /** The platform's id of the property (Booking.com hotel id, Airbnb host/account id). */
    externalPropertyId: text("external_property_id").notNull(),
    status: text("status", { enum: CONNECTION_STATUSES }).notNull().default("pending"),
    syncDirection: text("sync_direction", { enum: SYNC_DIRECTIONS })
      .notNull()
      .default("bidirectional"),
    syncAvailability: integer("sync_availability", { mode: "boolean" }).notNull().default(true),
    syncPricing: integer("sync_pricing", { mode: "boolean" }).notNull().default(true),
    syncBookings: integer("sync_bookings", { mode: "boolean" }).notNull().default(true),
    lastWebhookAt: integer("last_webhook_at"),
    lastOutboundSuccessAt: integer("last_outbound_success_at"),
    lastError: text("last_error"),
    /** AES-GCM ciphertext of the credentials JSON ("v1:<key id>:<iv>:<ciphertext>"), never returned. */
    credentialsCiphertext: text("credentials_ciphertext"),
    credentialsKeyId: text("credentials_key_id"),
    /** Per-connection overrides of rate limit, breaker and coalescing (JSON, see gate-settings.ts). */
    gateSettings: text("gate_settings"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Deleted connections are kept so bookings and logs keep resolving. */
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    uniqueIndex("channel_connections_property_platform_uq")
      .on(t.propertyId, t.platform)
      .where(sql`deleted_at IS NULL`),
    uniqueIndex("channel_connections_platform_external_uq")
      .on(t.platform, t.externalPropertyId)
      .where(sql`deleted_at IS NULL`),
    index("channel_connections_tenant_idx").on(t.tenantId, t.propertyId),
  ],
);

export { MAPPING_TYPES };

/**
 * confirmed: the platform said, with the connection's own credentials, that it knows the id and
 * this account may write it; only confirmed mappings are pushed to and route inbound events.
 * pending: not confirmed yet (the platform was unreachable, or has no adapter yet); the
 * verify-mappings job asks again. refused: the platform said no after the mapping was kept
 * pending; the row is soft-deleted with it, so it no longer holds the id.
 */
export const MAPPING_STATUSES = ["confirmed", "pending", "refused"] as const;
export type MappingStatus = (typeof MAPPING_STATUSES)[number];

/**
 * Internal id ↔ platform id, unique both ways per connection, and one live owner per platform id
 * across all tenants (channel_mappings_owner_uq). Deleted mappings are kept (deleted_at) so
 * history keeps resolving; the unique indexes only cover live rows.
 */
export const channelMappings = sqliteTable(
  "channel_mappings",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    connectionId: text("connection_id")
      .notNull()
      .references(() => channelConnections.id),
    platform: text("platform", { enum: PLATFORMS }).notNull(),
    mappingType: text("mapping_type", { enum: MAPPING_TYPES }).notNull(),
    internalId: text("internal_id").notNull(),
    /** Airbnb listing id, Booking.com room id, ... */
    externalId: text("external_id").notNull(),
    /**
     * Where the platform's id is unique: '' for ids unique on the whole platform (listing, hotel,
     * room ids), the connection id for ids a platform only scopes within one property (a Beds24
     * price slot, a Google room code). See src/platforms/external-ids.ts.
     */
    externalScope: text("external_scope").notNull().default(""),
    status: text("status", { enum: MAPPING_STATUSES }).notNull().default("confirmed"),
    /** When the platform last confirmed the id for this connection; null: never asked. */
    verifiedAt: integer("verified_at"),
    /** Why the last check did not confirm it (the platform's answer, or why it was not asked). */
    verificationError: text("verification_error"),
    /** When the verify-mappings job asks the platform next; null when nothing is to ask. */
    nextVerifyAt: integer("next_verify_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [
    uniqueIndex("channel_mappings_internal_uq")
      .on(t.connectionId, t.mappingType, t.internalId)
      .where(sql`deleted_at IS NULL`),
    uniqueIndex("channel_mappings_external_uq")
      .on(t.connectionId, t.mappingType, t.externalId)
      .where(sql`deleted_at IS NULL`),
    // One live owner of a platform id across every tenant and connection.
    uniqueIndex("channel_mappings_owner_uq")
      .on(t.platform, t.mappingType, t.externalScope, t.externalId)
      .where(sql`deleted_at IS NULL`),
    index("channel_mappings_lookup_idx").on(t.platform, t.mappingType, t.externalId),
    index("channel_mappings_verify_idx").on(t.nextVerifyAt),
    check("channel_mappings_external_not_empty", sql`length(${t.externalId}) > 0`),
  ],
);

/**
 * A pull platform's reservation polling, one row per connection, updated in place. A pull that
 * imports nothing leaves only this row changed (no event, no sync log: at 1,000 connections a
 * minute each those would grow D1 by a gigabyte a day); only a pull that changes something leaves
 * an event and a sync log. `next_pull_at` is the cron's lease and schedule in one: a pull is
 * enqueued only when due, so at most one is ever waiting per connection, and a held or failing
 * one is asked again when the gate can call, not every minute.
 */
export const connectionPulls = sqliteTable("connection_pulls", {
  connectionId: text("connection_id")
    .primaryKey()
    .references(() => channelConnections.id),
  tenantId: text("tenant_id")
    .notNull()
    .references(() => tenants.id),
  lastPullAt: integer("last_pull_at"),
  /** What the last pull did ("nothing to import", "2 imported", "held until …", an error). */
  lastResult: text("last_result"),
  lastDurationMs: integer("last_duration_ms"),
  /** The last pull that imported something. */
  lastChangeAt: integer("last_change_at"),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  nextPullAt: integer("next_pull_at").notNull().default(0),
  updatedAt: integer("updated_at").notNull(),
});
