// What the bench knows about Beds24: its published limit (credits), which logged calls are
// pushes, how its sandbox shows a calendar, the fewest calls its request size allows, the nights a
// push body carries, and how an operator connects the lake house to it.
import { minCalls, runLengths } from "../../lib/push-minimum.mjs";
import { sandboxCall } from "../../lib/stack.mjs";

/** POST /inventory/rooms/calendar: one room, ≤ 200 ranges and ≤ 366 nights per call. */
export const CALL_LIMITS = { maxOps: 200, maxNights: 366 };
/** The Beds24 side of the lake house, created by the bench when missing (the demo seed has none). */
export const HOUSE = { propId: "2400001", roomId: "24000101" };

const DAY_MS = 86_400_000;
const addDays = (date, n) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

function datesOf(start, end) {
  const out = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

export default {
  id: "beds24",
  label: "Beds24",
  /**
   * The published limit (src/domain/gate-settings.ts, the sandbox profile), restated on purpose.
   * Credits, not calls: a one-room calendar POST costs 1.1 in the sandbox (sandbox/src/beds24/store.ts).
   */
  limit: { capacity: 100, windowMs: 300_000, costPerCall: 1.1 },

  /** The room's calendar as the sandbox shows it (`available`, `price`, `updated_at`). */
  calendarPath: (_house, start, end) =>
    `/_sandbox/beds24/properties/${HOUSE.propId}/rooms/${HOUSE.roomId}/calendar` +
    `?start=${start}&end=${end}`,

  /** The endpoint a logged request pushed a calendar to, or null (only this room is flooded). */
  pushEndpoint: (r) =>
    r.method === "POST" && r.path === "/beds24/inventory/rooms/calendar" ? "rooms/calendar" : null,

  isTokenCall: (r) => /\/authentication\/(token|setup)$/.test(r.path),

  /** The nights a calendar POST body carries. */
  bodyDates(body) {
    try {
      return JSON.parse(body).flatMap((item) =>
        (item.calendar ?? []).flatMap((r) => datesOf(r.from, r.to)),
      );
    } catch {
      return [];
    }
  },

  /**
   * Runs of equal numAvail (units left, not open/closed) or price1 on consecutive dates, packed
   * into calls of ≤ 200 ranges and ≤ 366 nights, a run cut where a call is full.
   */
  minimumCalls: (changed, nightsOf) => ({
    availability: minCalls(
      runLengths(nightsOf(changed.availability), (n) => n.available),
      CALL_LIMITS.maxOps,
      CALL_LIMITS.maxNights,
    ),
    price: minCalls(
      runLengths(nightsOf(changed.price), (n) => n.price_minor),
      CALL_LIMITS.maxOps,
      CALL_LIMITS.maxNights,
    ),
  }),

  /**
   * The lake house on Beds24, connected the way an operator would: a sandbox room, an invite code
   * exchanged for a refresh token, a connection holding it as its credentials, the room mapped.
   */
  prepare: {
    figure: "beds24_connection",
    async run({ api, sandboxUrl, house }) {
      const status = await api("GET", `/api/v1/properties/${house.propertyId}/channel-status`);
      if (status.connections.some((c) => c.platform === "beds24")) return "present";
      // The property belongs to the account the invite code is for: the engine asks Beds24
      // whether the mapped room is that account's before it maps it.
      const { code, account } = await sandboxCall(
        sandboxUrl,
        "POST",
        "/_sandbox/beds24/invite-codes",
        {},
      );
      await sandboxCall(
        sandboxUrl,
        "PUT",
        `/_sandbox/beds24/properties/${HOUSE.propId}/rooms/${HOUSE.roomId}`,
        { units: 1, price: "150.00", currency: "EUR", account },
      );
      const setup = await fetch(`${sandboxUrl}/beds24/authentication/setup`, { headers: { code } });
      if (!setup.ok) throw new Error(`Beds24 setup → ${setup.status}: ${await setup.text()}`);
      const { refreshToken } = await setup.json();
      const created = await api("POST", "/api/v1/channel-connections", {
        property_id: house.propertyId,
        platform: "beds24",
        external_property_id: HOUSE.propId,
        status: "active",
        credentials: { refresh_token: refreshToken },
      });
      const connectionId = created.data?.id ?? created.id;
      await api("POST", "/api/v1/channel-mappings", {
        connection_id: connectionId,
        mapping_type: "room_type",
        internal_id: house.roomTypeId,
        external_id: HOUSE.roomId,
      });
      return "created";
    },
  },
};
