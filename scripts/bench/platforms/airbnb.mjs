// What the bench knows about Airbnb: its published limit, which logged calls are pushes, how its
// sandbox shows a calendar, the fewest calls its request size allows, how a guest books there and
// how its webhooks are signed (the ingest part's load).
import { minCalls, runLengths } from "../../lib/push-minimum.mjs";
import { sandboxCall } from "../../lib/stack.mjs";

/** PUT calendar / pricing: at most 50 operations and 366 nights per call. */
export const CALL_LIMITS = { maxOps: 50, maxNights: 366 };

/** A listing not mapped to any room: the consumer records the event and ignores it. */
const UNMAPPED_LISTING = "99999999";

export default {
  id: "airbnb",
  label: "Airbnb",
  /** The published limit (src/domain/gate-settings.ts, the sandbox profile), restated on purpose. */
  limit: { capacity: 10, windowMs: 1_000 },

  /** The listing's calendar as the sandbox shows it (`available`, `price`, `updated_at`). */
  calendarPath: (house, start, end) =>
    `/_sandbox/airbnb/listings/${house.airbnbListing}/calendar?start=${start}&end=${end}`,

  /** The endpoint a logged request pushed the house's calendar to, or null. */
  pushEndpoint(r, house) {
    const m = /^\/airbnb\/v2\/listings\/(\d+)\/(calendar|pricing)$/.exec(r.path);
    return r.method === "PUT" && m && m[1] === house.airbnbListing ? m[2] : null;
  },

  isTokenCall: (r) => /\/oauth2\/token$/.test(r.path),

  /** Runs of one value (open/closed, price) packed into calls of ≤ 50 runs and ≤ 366 nights. */
  minimumCalls: (changed, nightsOf) => ({
    availability: minCalls(
      runLengths(nightsOf(changed.availability), (n) => n.available > 0),
      CALL_LIMITS.maxOps,
      CALL_LIMITS.maxNights,
    ),
    price: minCalls(
      runLengths(nightsOf(changed.price), (n) => n.price_minor),
      CALL_LIMITS.maxOps,
      CALL_LIMITS.maxNights,
    ),
  }),

  /** A guest books one stay through the sandbox; its signed webhook is returned, not sent. */
  book: (sandboxUrl, house, { start, end, guestName }) =>
    sandboxCall(sandboxUrl, "POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: house.airbnbListing,
      start_date: start,
      end_date: end,
      guest_name: guestName,
    }),

  /** The engine's webhook route, the secret it verifies with and the signature header. */
  webhook: {
    path: "/api/v1/webhooks/airbnb",
    secretName: "AIRBNB_WEBHOOK_SECRET",
    header: "x-airbnb-signature",
    /** A reservation.created event for the unmapped listing, with a real notification's fields. */
    event: (eventId, code) => ({
      event_id: eventId,
      event_type: "reservation.created",
      listing_id: UNMAPPED_LISTING,
      confirmation_code: code,
      occurred_at: new Date().toISOString(),
      // Fields a real notification carries; the edge schema ignores them but they cost bytes.
      reservation: {
        status: "accepted",
        start_date: "2027-06-10",
        end_date: "2027-06-13",
        number_of_guests: 2,
        guest: { first_name: "Bench", last_name: "Guest" },
        total_price: { amount: "450.00", currency: "EUR" },
      },
    }),
  },
};
