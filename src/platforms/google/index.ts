import type { PlatformModule } from "../contract";
import { partnerId } from "../kit/id-rules";
import { GOOGLE } from "./id";

/** Google: a known platform without an adapter yet (ids and pace only; no capabilities). */
export const google: PlatformModule = {
  id: GOOGLE,
  displayName: "Google",
  aliases: [],
  rateLimit: { capacity: 100, windowMs: 1_000 },
  externalIds: {
    property: partnerId(
      "Google hotel ids are your own partner ids: 1–64 letters, digits, '_' or '-'",
      "alpine-stays_42",
    ),
    // Room and rate codes are the partner's own per hotel: unique per connection only.
    room_type: {
      ...partnerId(
        "Google room ids (InvTypeCode) are 1–64 letters, digits, '_' or '-'",
        "double_sea_view",
      ),
      scope: "connection",
    },
    rate_plan: {
      ...partnerId(
        "Google rate plan ids (RatePlanCode) are 1–64 letters, digits, '_' or '-'",
        "flex-bb",
      ),
      scope: "connection",
    },
  },
  idNouns: { property: "hotel", room_type: "room", rate_plan: "rate plan" },
};
