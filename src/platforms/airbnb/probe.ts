import type { PayloadProbe, ProbedPayload } from "../contract";
import { firstIssue, idOf, isRecord } from "../kit/probe";
import { airbnbReservationSchema, airbnbWebhookSchema } from "./adapter";

const SHAPES =
  "an Airbnb webhook {listing_id, confirmation_code, …} or reservation {reservation: {listing_id, …}}";

/** An Airbnb webhook names its listing; a reservation carries it under `reservation`. */
function read(payload: Record<string, unknown>): ProbedPayload | { error: string } {
  if (isRecord(payload.reservation)) {
    const strict = airbnbReservationSchema.safeParse(payload);
    const room = idOf(payload.reservation.listing_id);
    if (!room) return { error: "reservation.listing_id: expected the listing id" };
    return {
      type: "airbnb_reservation",
      property: null,
      room,
      rate: null,
      rejected: strict.success ? null : firstIssue(strict.error),
    };
  }
  if ("listing_id" in payload) {
    const strict = airbnbWebhookSchema.safeParse(payload);
    const room = idOf(payload.listing_id);
    if (!room) return { error: "listing_id: expected the listing id" };
    return {
      type: "airbnb_webhook",
      property: null,
      room,
      rate: null,
      rejected: strict.success ? null : firstIssue(strict.error),
    };
  }
  return { error: `expected ${SHAPES}` };
}

export const airbnbProbe: PayloadProbe = {
  payloadTypes: ["airbnb_webhook", "airbnb_reservation"],
  read,
  // A listing stands alone: the connection that maps it gets its bookings.
  routesBy: "room",
  shapes: SHAPES,
  example: {
    event_id: "evt_1",
    event_type: "reservation.created",
    listing_id: "53170118",
    confirmation_code: "HMABCD1234",
    occurred_at: "2027-05-01T10:00:00Z",
  },
};
