/**
 * The engine's shared words, each defined once: the database schema, the API's enums, the queue's
 * messages and the platform contract all import them from here.
 */

/** What a pushed night carries: whether it can be sold, and its price. */
export const NIGHT_ASPECTS = ["availability", "price"] as const;
export type NightAspect = (typeof NIGHT_ASPECTS)[number];

/**
 * confirmed: holds its nights. cancelled: holds none. conflict: the channel sold nights that were
 * already taken; stored with an alert, holds none, needs a person. unmapped: the channel's room is
 * not mapped to a room type yet; holds none until a mapping exists and it is imported again.
 */
export const BOOKING_STATUSES = ["confirmed", "cancelled", "conflict", "unmapped"] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** What a channel mapping maps: the property itself, a room type or a rate plan. */
export const MAPPING_TYPES = ["property", "room_type", "rate_plan"] as const;
export type MappingType = (typeof MAPPING_TYPES)[number];

/** A sync log's states (sync-log-state.ts is the machine that moves between them). */
export const SYNC_STATUSES = [
  "triggered",
  "running",
  "success",
  "failed",
  "retrying",
  "deadlettered",
] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];
