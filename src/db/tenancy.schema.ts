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
