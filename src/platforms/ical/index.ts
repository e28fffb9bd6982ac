import type { PlatformModule } from "../contract";
import { isHttpsFeedUrl, none } from "../kit/id-rules";
import { ICAL } from "./id";

/** iCal feeds: known, without an adapter yet (a feed is one URL per listing, no prices). */
export const ical: PlatformModule = {
  id: ICAL,
  displayName: "iCal",
  aliases: [],
  // Feeds are fetched, not called; a modest pace keeps a misconfigured poll from hammering a host.
  rateLimit: { capacity: 60, windowMs: 60_000 },
  externalIds: {
    property: none(
      "iCal has no property ids: feeds are per listing, so map each room type to its feed URL",
    ),
    room_type: {
      rule: "iCal room type ids are the platform's feed URL: an https:// URL of at most 2048 characters without user:password@",
      example: "https://calendar.example.com/feeds/53170118.ics",
      test: isHttpsFeedUrl,
    },
    rate_plan: none("iCal carries no prices, so it has no rate plans to map"),
  },
  idNouns: { property: "property", room_type: "feed", rate_plan: "rate plan" },
};
