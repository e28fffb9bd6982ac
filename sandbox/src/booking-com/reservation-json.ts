import { isoTime } from "../kit/dates";
import type { ReservationRow } from "../kit/store/types";

/** OTA ResStatus of a reservation's latest revision. */
export const RES_STATUS = { created: "Commit", modified: "Modify", cancelled: "Cancel" } as const;

/** A Booking.com reservation as the control API reports it (JSON, for tests and tooling). */
export function bookingReservation(r: ReservationRow) {
  return {
    reservation_id: r.id,
    hotel_id: r.property_id,
    room_id: r.unit_id,
    rate_plan_id: r.rate_plan_id,
    status: r.status,
    res_status: RES_STATUS[r.last_action],
    start_date: r.start_date,
    end_date: r.end_date,
    guest: { first_name: r.given_name ?? "", last_name: r.surname },
    number_of_guests: r.guests,
    total_price: { amount: r.total, currency: r.currency },
    created_at: isoTime(r.created_at),
    updated_at: isoTime(r.modified_at),
    acknowledged: r.acked_at !== null && r.acked_at >= r.modified_at,
  };
}
