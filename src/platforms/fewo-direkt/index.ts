import type { PlatformModule } from "../contract";
import { listingOrUuid, none } from "../kit/id-rules";
import { FEWO_DIREKT, FEWO_DIREKT_ALIASES } from "./id";

/** FeWo-direkt / Vrbo: a known platform without an adapter yet (ids and pace only). */
export const fewoDirekt: PlatformModule = {
  id: FEWO_DIREKT,
  displayName: "FeWo-direkt/Vrbo",
  aliases: FEWO_DIREKT_ALIASES,
  rateLimit: { capacity: 30, windowMs: 1_000 },
  externalIds: {
    property: listingOrUuid(
      "FeWo-direkt/Vrbo property ids are listing ids: 1–20 digits or a UUID",
      "3212345",
    ),
    room_type: listingOrUuid(
      "FeWo-direkt/Vrbo listing ids are 1–20 digits or a UUID",
      "c0a8012e-7d4f-4a51-9b1e-2f3d4c5b6a79",
    ),
    rate_plan: none(
      "FeWo-direkt/Vrbo has no rate plan ids: prices are set per listing, so map the room type only",
    ),
  },
  idNouns: { property: "listing", room_type: "listing", rate_plan: "rate plan" },
};
