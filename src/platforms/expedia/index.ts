import type { PlatformModule } from "../contract";
import { digits } from "../kit/id-rules";
import { EXPEDIA } from "./id";

/** Expedia: a known platform without an adapter yet (ids and pace only; no capabilities). */
export const expedia: PlatformModule = {
  id: EXPEDIA,
  displayName: "Expedia",
  aliases: [],
  rateLimit: { capacity: 50, windowMs: 1_000 },
  externalIds: {
    property: digits("Expedia hotel ids are 1–10 digits", 1, 10, "4567890"),
    room_type: digits("Expedia room type ids are 1–12 digits", 1, 12, "201234567"),
    rate_plan: digits("Expedia rate plan ids are 1–12 digits", 1, 12, "208765432"),
  },
  idNouns: { property: "hotel", room_type: "room type", rate_plan: "rate plan" },
};
