import type { PayloadProbe, ProbedPayload } from "../contract";
import { firstIssue, idOf, isRecord } from "../kit/probe";
import { bookingComWebhookSchema } from "./adapter";

const SHAPES =
  "a Booking.com push {hotel_id, reservation_id, …} or reservation {hotel_id, room_id, rate_plan_id?}";

/** A Booking.com push names its hotel; a reservation names hotel, room and maybe rate plan. */
function read(payload: Record<string, unknown>): ProbedPayload | { error: string } {
  const body = isRecord(payload.reservation) ? payload.reservation : payload;
  if ("room_id" in body) {
    const room = idOf(body.room_id);
    if (!room) return { error: "room_id: expected the Booking.com room id" };
    return {
      type: "booking_com_reservation",
      property: idOf(body.hotel_id),
      room,
      rate: idOf(body.rate_plan_id),
      rejected: null,
    };
  }
  if ("hotel_id" in body) {
    const strict = bookingComWebhookSchema.safeParse(body);
    const hotel = idOf(body.hotel_id);
    if (!hotel) return { error: "hotel_id: expected the Booking.com hotel id" };
    return {
      type: "booking_com_push",
      property: hotel,
      room: null,
      rate: null,
      rejected: strict.success ? null : firstIssue(strict.error),
    };
  }
  return { error: `expected ${SHAPES}` };
}

export const bookingComProbe: PayloadProbe = {
  payloadTypes: ["booking_com_push", "booking_com_reservation"],
  read,
  // A hotel is one connection: its id routes every push and reservation.
  routesBy: "property",
  shapes: SHAPES,
};
