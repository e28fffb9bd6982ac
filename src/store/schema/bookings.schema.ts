import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { PLATFORM_IDS } from "../../platforms/ids";
import { BOOKING_STATUSES, type BookingStatus } from "../../domain/vocabulary";
import { channelConnections } from "./channels.schema";
import { properties, roomTypes, tenants } from "./tenancy.schema";

/** Where a booking came from: made directly in the PMS, or on one of the platforms. */
export const BOOKING_SOURCES = ["direct", ...PLATFORM_IDS] as const;

export { BOOKING_STATUSES, type BookingStatus };

export const bookings = sqliteTable(
  "bookings",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    propertyId: text("property_id")
      .notNull()
      .references(() => properties.id),
    /** Null only while the booking is unmapped. */
    roomTypeId: text("room_type_id").references(() => roomTypes.id),
    connectionId: text("connection_id").references(() => channelConnections.id),
    /** The platform's room/listing id, kept so an unmapped booking can be mapped later. */
    externalRoomId: text("external_room_id"),
    source: text("source", { enum: BOOKING_SOURCES }).notNull(),
    channelBookingId: text("channel_booking_id").notNull(),
    status: text("status", { enum: BOOKING_STATUSES }).notNull(),
    /** Local dates, YYYY-MM-DD; check_out is exclusive (the guest leaves that morning). */
    checkIn: text("check_in").notNull(),
    checkOut: text("check_out").notNull(),
    guestName: text("guest_name"),
    guestCount: integer("guest_count"),
    amountMinor: integer("amount_minor"),
    currency: text("currency"),
    /** Internal optimistic-lock counter, bumped on every write. */
    version: integer("version").notNull().default(1),
    /** The channel's own revision or modified time (epoch ms): an older one never overwrites a newer one. */
    channelRevision: integer("channel_revision").notNull(),
    conflictReason: text("conflict_reason"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("bookings_source_channel_id_uq").on(t.source, t.channelBookingId),
    index("bookings_tenant_property_idx").on(t.tenantId, t.propertyId, t.checkIn),
    check("bookings_dates_ordered", sql`${t.checkOut} > ${t.checkIn}`),
  ],
);

/**
 * What each event did to a booking: written in the same D1 batch as the change itself, so the
 * record of which event created, moved or cancelled a booking survives whatever fails after it (a
 * lost acknowledgement, a retry that then finds the revision already stored). One row per booking
 * and event; a later attempt of the same event that only finds its own change adds nothing.
 */
export const bookingChanges = sqliteTable(
  "booking_changes",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    bookingId: text("booking_id")
      .notNull()
      .references(() => bookings.id),
    /** The idempotency key of the event (channel_events.idempotency_key) that applied it. */
    eventKey: text("event_key").notNull(),
    /** created, modified, cancelled, details_updated, conflict, stored_cancelled. */
    outcome: text("outcome").notNull(),
    /** The booking's status, stay and channel revision as this change left them. */
    status: text("status", { enum: BOOKING_STATUSES }).notNull(),
    checkIn: text("check_in").notNull(),
    checkOut: text("check_out").notNull(),
    channelRevision: integer("channel_revision").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("booking_changes_booking_event_uq").on(t.bookingId, t.eventKey),
    index("booking_changes_event_idx").on(t.eventKey),
  ],
);

/**
 * The per-night inventory ledger: one row per (room type, night). The CHECK makes overbooking
 * impossible: claiming a stay is one D1 batch, and a single full night fails the whole batch.
 */
export const inventoryNights = sqliteTable(
  "inventory_nights",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    roomTypeId: text("room_type_id")
      .notNull()
      .references(() => roomTypes.id),
    night: text("night").notNull(),
    capacity: integer("capacity").notNull(),
    booked: integer("booked").notNull().default(0),
    /** Units closed by the owner (maintenance, own use). */
    blocked: integer("blocked").notNull().default(0),
    /** Nightly price for this date in minor units; NULL means the room type's base price. */
    priceMinor: integer("price_minor"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.roomTypeId, t.night] }),
    check(
      "inventory_nights_within_capacity",
      sql`${t.booked} >= 0 AND ${t.blocked} >= 0 AND ${t.booked} + ${t.blocked} <= ${t.capacity}`,
    ),
  ],
);

/** Which nights a booking holds. Releasing decrements exactly these, so a release is idempotent. */
export const bookingNights = sqliteTable(
  "booking_nights",
  {
    bookingId: text("booking_id")
      .notNull()
      .references(() => bookings.id),
    tenantId: text("tenant_id").notNull(),
    roomTypeId: text("room_type_id").notNull(),
    night: text("night").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.bookingId, t.night] }),
    index("booking_nights_room_night_idx").on(t.roomTypeId, t.night),
  ],
);

/**
 * Compare-and-swap guard for D1 batches, which have no interactive transactions and where a
 * zero-row UPDATE does not fail: inserting NULL into `ok` (because the expected version no longer
 * matches) aborts the whole batch. The row is deleted again by the batch's last statement.
 */
export const writeGuards = sqliteTable("write_guards", {
  token: text("token").primaryKey(),
  ok: integer("ok").notNull(),
});
