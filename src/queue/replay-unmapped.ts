import type { Platform } from "../db/channels.schema";

export interface NewMapping {
  tenantId: string;
  connectionId: string;
  platform: Platform;
  mappingType: "property" | "room_type" | "rate_plan";
  externalId: string;
}

/**
 * Called after a mapping is created: events and bookings kept as `unmapped` for that listing/room
 * are replayed through the inbound queue, so they import now. Idempotent: replaying an event that
 * already applied changes nothing. Returns how many replays were enqueued.
 */
export async function replayUnmappedFor(_env: Env, _mapping: NewMapping): Promise<number> {
  // Filled in by the unmapped-inbound work (same commit series).
  return 0;
}
