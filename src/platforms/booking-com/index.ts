import type { PlatformModule } from "../contract";
import { digits } from "../kit/id-rules";
import { bookingComAdapter } from "./adapter";
import { BOOKING_COM } from "./id";
import { bookingComProbe } from "./probe";

/**
 * Booking.com: reservations are pulled and acknowledged (a push notification only says "pull
 * now"); availability and rates are pushed as OTA XML.
 */
export const bookingCom: PlatformModule = {
  id: BOOKING_COM,
  displayName: "Booking.com",
  aliases: [],
  config: {
    baseUrl: "BOOKING_COM_API_BASE",
    clientId: "BOOKING_COM_CLIENT_ID",
    clientSecret: "BOOKING_COM_CLIENT_SECRET",
    webhookSecret: "BOOKING_COM_WEBHOOK_SECRET",
    previousWebhookSecret: "BOOKING_COM_WEBHOOK_SECRET_PREVIOUS",
  },
  rateLimit: { capacity: 20, windowMs: 60_000 },
  externalIds: {
    property: digits("Booking.com hotel ids are 1–10 digits", 1, 10, "1234567"),
    room_type: digits("Booking.com room ids are 1–12 digits", 1, 12, "123456701"),
    rate_plan: digits("Booking.com rate plan ids are 1–12 digits", 1, 12, "20345678"),
  },
  idNouns: { property: "hotel", room_type: "room", rate_plan: "rate plan" },
  webhook: {
    verification: { kind: "ota_hmac", header: bookingComAdapter.signatureHeader },
    parse: bookingComAdapter.parseWebhook,
  },
  fetchBookings: bookingComAdapter.fetchBookings,
  acknowledge: bookingComAdapter.acknowledge,
  // Every cron minute: the fallback when a push notification is lost.
  pull: { intervalMs: 60_000 },
  probe: bookingComProbe,
  push: bookingComAdapter,
  verifyMapping: bookingComAdapter.verifyMapping,
};
