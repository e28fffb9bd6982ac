import type { PlatformModule } from "../contract";
import { digits, none } from "../kit/id-rules";
import { airbnbAdapter } from "./adapter";
import { AIRBNB } from "./id";
import { airbnbProbe } from "./probe";

/** Airbnb: webhooks are hints, each reservation is fetched; calendar and pricing are pushed. */
export const airbnb: PlatformModule = {
  id: AIRBNB,
  displayName: "Airbnb",
  aliases: [],
  config: {
    baseUrl: "AIRBNB_API_BASE",
    clientId: "AIRBNB_CLIENT_ID",
    clientSecret: "AIRBNB_CLIENT_SECRET",
    defaultRefreshToken: "AIRBNB_REFRESH_TOKEN",
    hostAccounts: true,
    webhookSecret: "AIRBNB_WEBHOOK_SECRET",
    previousWebhookSecret: "AIRBNB_WEBHOOK_SECRET_PREVIOUS",
  },
  rateLimit: { capacity: 10, windowMs: 1_000 },
  externalIds: {
    property: digits("Airbnb property ids are listing ids: 1–20 digits", 1, 20, "53170118"),
    room_type: digits("Airbnb listing ids are 1–20 digits", 1, 20, "53170118"),
    rate_plan: none(
      "Airbnb has no rate plan ids: prices are set per listing, so map the room type only",
    ),
  },
  idNouns: { property: "listing", room_type: "listing", rate_plan: "rate plan" },
  webhook: {
    verification: { kind: "ota_hmac", header: airbnbAdapter.signatureHeader },
    parse: airbnbAdapter.parseWebhook,
  },
  fetchBookings: airbnbAdapter.fetchBookings,
  probe: airbnbProbe,
  push: airbnbAdapter,
  verifyMapping: airbnbAdapter.verifyMapping,
};
