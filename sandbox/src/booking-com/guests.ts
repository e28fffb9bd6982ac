import { z } from "zod";
import { readBody } from "../kit/control-body";
import { checkOutAfterCheckIn, id, splitName, stay, stayMessage } from "../kit/control-schemas";
import { isoTime } from "../kit/dates";
import { DIGITS, eventId, randomChars } from "../kit/random";
import type { GuestSide } from "../kit/simulator";
import { bookingReservation } from "./reservation-json";

/** Guests of the Booking.com simulator: bookings through the control API, signed hints. */

export const bookingReservationBody = z
  .strictObject({
    ...stay,
    hotel_id: id,
    room_id: id,
    rate_plan_id: id.optional(),
    reservation_id: z
      .string()
      .regex(/^\d{1,32}$/, "Booking.com reservation ids are numeric")
      .optional(),
  })
  .refine(checkOutAfterCheckIn, stayMessage);

/** Booking.com reservation id: 10 digits, no leading zero. */
export function bookingReservationId(): string {
  return `${randomChars("123456789", 1)}${randomChars(DIGITS, 9)}`;
}

const EVENTS = {
  created: "reservation.new",
  modified: "reservation.modified",
  cancelled: "reservation.cancelled",
} as const;

export const bookingGuests: GuestSide = {
  async readReservation(c) {
    const body = await readBody(c, bookingReservationBody);
    if (!body.ok) return body;
    const v = body.data;
    const name = splitName(v.guest_name);
    return {
      ok: true,
      data: {
        id: v.reservation_id ?? bookingReservationId(),
        property_id: v.hotel_id,
        unit_id: v.room_id,
        rate_plan_id: v.rate_plan_id ?? null,
        start_date: v.start_date,
        end_date: v.end_date,
        given_name: name.given,
        surname: name.surname,
        guests: v.guests ?? 1,
        total: v.total ?? null,
        currency: v.currency ?? null,
      },
    };
  },
  serialize: bookingReservation,
  // A hint only: the engine then pulls the reservation with OTA_HotelResNotif.
  event: (action, r) => ({
    event_id: eventId("bcn_"),
    event_type: EVENTS[action],
    hotel_id: r.property_id,
    reservation_id: r.id,
    occurred_at: isoTime(r.modified_at),
  }),
  webhook: { header: "X-Booking-Signature", secret: (env) => env.BOOKING_COM_WEBHOOK_SECRET },
};
