import { z } from "zod";
import { readBody } from "../kit/control-body";
import { checkOutAfterCheckIn, splitName, stay, stayMessage } from "../kit/control-schemas";
import { isoTime } from "../kit/dates";
import { eventId, randomChars, UPPER_ALNUM } from "../kit/random";
import type { GuestSide } from "../kit/simulator";
import { airbnbReservation } from "./reservation-json";

/** Guests of the Airbnb simulator: bookings through the control API, signed webhooks. */

export const airbnbReservationBody = z
  .strictObject({
    ...stay,
    listing_id: z.string().regex(/^\d{1,20}$/, "Airbnb listing ids are numeric"),
    confirmation_code: z
      .string()
      .regex(/^HM[A-Z0-9]{8}$/, "must be HM followed by 8 upper-case letters or digits")
      .optional(),
  })
  .refine(checkOutAfterCheckIn, stayMessage);

/** Airbnb confirmation code: "HM" + 8 upper-case letters/digits. */
export function airbnbConfirmationCode(): string {
  return `HM${randomChars(UPPER_ALNUM, 8)}`;
}

const EVENTS = {
  created: "reservation.created",
  modified: "reservation.updated",
  cancelled: "reservation.cancelled",
} as const;

export const airbnbGuests: GuestSide = {
  async readReservation(c) {
    const body = await readBody(c, airbnbReservationBody);
    if (!body.ok) return body;
    const v = body.data;
    const name = splitName(v.guest_name);
    return {
      ok: true,
      data: {
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
      },
    };
  },
  serialize: airbnbReservation,
  event: (action, r) => ({
    event_id: eventId("evt_"),
    event_type: EVENTS[action],
    listing_id: r.unit_id,
    confirmation_code: r.id,
    occurred_at: isoTime(r.modified_at),
  }),
  webhook: { header: "X-Airbnb-Signature", secret: (env) => env.AIRBNB_WEBHOOK_SECRET },
};
