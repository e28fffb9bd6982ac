// What the bench knows about Booking.com: its published limit, which logged calls are pushes and
// count against the limit, how its sandbox shows a calendar, the fewest calls its request size
// allows, the nights a push body carries, and the rate-plan mapping its price pushes need.
import { minWindows } from "../../lib/push-minimum.mjs";

/** OTA_HotelAvailNotif / OTA_HotelRateAmountNotif: one call per ≤ 31-day window. */
export const WINDOW_DAYS = 31;

const PUSH = /^\/booking_com\/ota\/(OTA_HotelAvailNotif|OTA_HotelRateAmountNotif)$/;
const DAY_MS = 86_400_000;
const addDays = (date, n) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Every date of the inclusive range. */
function datesOf(start, end) {
  const out = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

export default {
  id: "booking_com",
  label: "Booking.com",
  /** The published limit (src/domain/gate-settings.ts, the sandbox profile), restated on purpose. */
  limit: { capacity: 20, windowMs: 60_000 },
  /** Every /ota/ call counts against the limit, pulls included. */
  isRateCounted: (r) => r.path.includes("/ota/"),

  /** The room's calendar as the sandbox shows it (`available`, `price`, `updated_at`). */
  calendarPath: (house, start, end) =>
    `/_sandbox/booking_com/hotels/${house.hotelId}/rooms/${house.roomId}/calendar` +
    `?start=${start}&end=${end}`,

  /**
   * The endpoint a logged request pushed a calendar to, or null. The request log carries no hotel
   * or room id: on the bench stack only this property is flooded.
   */
  pushEndpoint(r) {
    const m = PUSH.exec(r.path);
    return r.method === "POST" && m ? m[1] : null;
  },

  isTokenCall: (r) => /\/oauth\/token$/.test(r.path),

  /** The nights an OTA push body carries. */
  bodyDates(body) {
    const out = [];
    for (const m of body.matchAll(/Start="(\d{4}-\d{2}-\d{2})" End="(\d{4}-\d{2}-\d{2})"/g)) {
      out.push(...datesOf(m[1], m[2]));
    }
    return out;
  },

  /** Greedy windows, each from the first uncovered date to 30 days after it. */
  minimumCalls: (changed) => ({
    availability: minWindows(changed.availability, WINDOW_DAYS),
    price: minWindows(changed.price, WINDOW_DAYS),
  }),

  /** The bodies carry the hotel: which hotels the flood's OTA messages were for. */
  bodyFigures: {
    limit: 200,
    figures(received, since) {
      const codes = {};
      for (const r of received.filter((x) => x.at >= since && /\/ota\//.test(x.path))) {
        const code = /HotelCode="([^"]*)"/.exec(r.body)?.[1] ?? "(none)";
        codes[code] = (codes[code] ?? 0) + 1;
      }
      return { hotel_codes_in_bodies: codes };
    },
  },

  /** Price pushes need the room's rate plan mapped; the demo seed maps it. */
  prepare: {
    figure: "rate_plan_mapping",
    async run({ api, house, connection }) {
      const { connection_id: connectionId } = await connection("booking_com");
      const list = await api(
        "GET",
        `/api/v1/channel-mappings?connection_id=${connectionId}&mapping_type=rate_plan&limit=100`,
      );
      if (list.data.some((m) => m.internal_id === house.ratePlan && m.deleted_at === null)) {
        return "present";
      }
      await api("POST", "/api/v1/channel-mappings", {
        connection_id: connectionId,
        mapping_type: "rate_plan",
        internal_id: house.ratePlan,
        external_id: house.ratePlanId,
      });
      return "created";
    },
  },
};
