import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** An agency (or a single hotel) using the engine. Every other row carries its tenant. */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const properties = sqliteTable(
  "properties",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** IANA zone: "today" and check-in dates are the property's local dates. */
    timeZone: text("time_zone").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("properties_tenant_idx").on(t.tenantId)],
);

/** A sellable kind of room: 1 unit for a holiday home, N for a hotel room type. */
export const roomTypes = sqliteTable(
  "room_types",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    propertyId: text("property_id")
      .notNull()
      .references(() => properties.id),
    name: text("name").notNull(),
    units: integer("units").notNull(),
    /** Default nightly price in minor units (cents), pushed where a platform takes prices. */
    basePriceMinor: integer("base_price_minor"),
    currency: text("currency"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("room_types_property_idx").on(t.tenantId, t.propertyId),
    uniqueIndex("room_types_property_name_uq").on(t.propertyId, t.name),
    check("room_types_units_positive", sql`${t.units} >= 1`),
  ],
);

/** A price plan of a room type (Booking.com prices per room + rate); mapped like room types. */
export const ratePlans = sqliteTable(
  "rate_plans",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    propertyId: text("property_id")
      .notNull()
      .references(() => properties.id),
    roomTypeId: text("room_type_id")
      .notNull()
      .references(() => roomTypes.id),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("rate_plans_property_idx").on(t.tenantId, t.propertyId),
    uniqueIndex("rate_plans_room_type_name_uq").on(t.roomTypeId, t.name),
  ],
);

export const TOKEN_ROLES = ["admin", "read_only"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Tenant API tokens, stored only as SHA-256 hashes; the token itself is shown once. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    role: text("role", { enum: TOKEN_ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    /** First characters, so a person can tell tokens apart without the secret part. */
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    uniqueIndex("api_tokens_hash_uq").on(t.tokenHash),
    index("api_tokens_tenant_idx").on(t.tenantId),
  ],
);
