import { airbnbReservation } from "../airbnb/reservation-json";
import { bookingReservation } from "../booking-com/reservation-json";
import { isoTime } from "../lib/dates";
import { airbnbConfirmationCode, bookingReservationId, eventId } from "../lib/random";
import type { z } from "zod";
import type {
  GuestPlatform,
  NewReservation,
  ReservationAction,
  ReservationRow,
} from "../state/types";
import { airbnbReservationBody, bookingReservationBody, splitName } from "./schemas";

/** What differs between the platforms when a guest books, changes or cancels. */
export interface GuestSide {
  /** Response shape of a reservation. */
  serialize(r: ReservationRow): unknown;
  /** Webhook payload announcing a reservation change. */
  event(action: ReservationAction, r: ReservationRow): Record<string, unknown>;
}

const AIRBNB_EVENTS = {
  created: "reservation.created",
  modified: "reservation.updated",
  cancelled: "reservation.cancelled",
} as const;

const BOOKING_EVENTS = {
  created: "reservation.new",
  modified: "reservation.modified",
  cancelled: "reservation.cancelled",
} as const;

export const GUEST_SIDE: Record<GuestPlatform, GuestSide> = {
  airbnb: {
    serialize: airbnbReservation,
    event: (action, r) => ({
      event_id: eventId("evt_"),
      event_type: AIRBNB_EVENTS[action],
      listing_id: r.unit_id,
      confirmation_code: r.id,
      occurred_at: isoTime(r.modified_at),
    }),
  },
  booking_com: {
    serialize: bookingReservation,
    // A hint only: the engine then pulls the reservation with OTA_HotelResNotif.
    event: (action, r) => ({
      event_id: eventId("bcn_"),
      event_type: BOOKING_EVENTS[action],
      hotel_id: r.property_id,
      reservation_id: r.id,
      occurred_at: isoTime(r.modified_at),
    }),
  },
};

export function airbnbBooking(v: z.infer<typeof airbnbReservationBody>): NewReservation {
  const name = splitName(v.guest_name);
  return {
    id: v.confirmation_code ?? airbnbConfirmationCode(),
    property_id: v.listing_id,
    unit_id: v.listing_id,
    rate_plan_id: null,
    start_date: v.start_date,
    end_date: v.end_date,
    given_name: name.given,
    surname: name.surname,
    guests: v.guests ?? 1,
    total: v.total ?? null,
    currency: v.currency ?? null,
  };
}

export function bookingComBooking(v: z.infer<typeof bookingReservationBody>): NewReservation {
  const name = splitName(v.guest_name);
  return {
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
  };
}
