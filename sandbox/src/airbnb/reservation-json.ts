import { isoTime } from "../kit/dates";
import type { ReservationRow } from "../kit/store/types";

/** A reservation in Airbnb's JSON shape (the seeds' contract). */
export function airbnbReservation(r: ReservationRow) {
  return {
    confirmation_code: r.id,
    listing_id: r.unit_id,
    status: r.status === "cancelled" ? "cancelled" : "accepted",
    start_date: r.start_date,
    end_date: r.end_date,
    guest: { first_name: r.given_name ?? "", last_name: r.surname },
    number_of_guests: r.guests,
    total_price: { amount: r.total, currency: r.currency },
    created_at: isoTime(r.created_at),
    updated_at: isoTime(r.modified_at),
  };
}
