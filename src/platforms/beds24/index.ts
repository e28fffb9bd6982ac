import type { PlatformModule } from "../contract";
import { digits, isPriceSlot } from "../kit/id-rules";
import { beds24Adapter } from "./adapter";
import { BEDS24 } from "./id";

/**
 * Beds24: push only for now (availability and the daily price slots). It has no webhook endpoint
 * and no booking import until its import lands, so it declares neither.
 */
export const beds24: PlatformModule = {
  id: BEDS24,
  displayName: "Beds24",
  aliases: [],
  config: {
    baseUrl: "BEDS24_API_BASE",
    defaultRefreshToken: "BEDS24_REFRESH_TOKEN",
    hostAccounts: true,
  },
  // Credits per rolling 5 minutes.
  rateLimit: { capacity: 100, windowMs: 300_000 },
  externalIds: {
    property: digits("Beds24 property ids (propId) are 1–10 digits", 1, 10, "123456"),
    room_type: digits("Beds24 room ids (roomId) are 1–10 digits", 1, 10, "246810"),
    rate_plan: {
      rule: "Beds24 rate plans are the room's daily price slots: a number from 1 to 16 (price1…price16)",
      example: "1",
      test: isPriceSlot,
      // A price slot is "1"…"16" in every room: unique per connection, not on the platform.
      scope: "connection",
    },
  },
  idNouns: { property: "property", room_type: "room", rate_plan: "price slot" },
  push: beds24Adapter,
  verifyMapping: beds24Adapter.verifyMapping,
};
