import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { airbnbControl } from "../airbnb/control";
import { beds24Control } from "../beds24/control";
import { bookingControl } from "../booking-com/control";
import { invalid, readBody } from "./body";
import { parseRange } from "../lib/dates";
import { clampLimit } from "../lib/http";
import { isSellable } from "../state/calendar-store";
import { platformState } from "../state/platform-state";
import {
  type GuestPlatform,
  isGuestPlatform,
  isPlatformName,
  PLATFORMS,
  type PlatformName,
  type ReservationResult,
} from "../state/types";
import { type DeliveryMode, emit, flush, parseDeliveryMode } from "../webhooks";
import { airbnbBooking, bookingComBooking, GUEST_SIDE } from "./reservations";
import { airbnbReservationBody, bookingReservationBody, faultsBody, modifyBody } from "./schemas";

type Ctx = Context<AppEnv>;

/** Control API: drives the simulators from tests and tools. No auth: it is never deployed. */
export const control = new Hono<AppEnv>();

const unknownPlatform = (c: Context) =>
  c.json({ error: "not_found", message: `platform must be one of ${PLATFORMS.join(", ")}` }, 404);

control.post("/reset", async (c) => {
  const only = c.req.query("platform");
  if (only !== undefined && !isPlatformName(only)) return unknownPlatform(c);
  const targets = only ? [only] : PLATFORMS;
  await Promise.all(targets.map((p) => platformState(c.env, p).reset()));
  return c.json({ ok: true, reset: targets });
});

// ---- calendars as the platform shows them (propagation measurements) ----

async function calendar(c: Ctx, platform: PlatformName, propertyId: string, unitId: string) {
  const range = parseRange(c.req.query("start"), c.req.query("end"), ["start", "end"]);
  if (!range.ok) return invalid(c, range.message);
  const days = await platformState(c.env, platform).readCalendar(
    propertyId,
    unitId,
    range.start,
    range.end,
    platform,
  );
  if (!days) return c.json({ error: "not_found" }, 404);
  return c.json({
    days: days.map((d) => ({
      date: d.date,
      available: isSellable(d),
      ...(platform === "booking_com" ? { rooms_to_sell: d.rooms_to_sell, closed: d.closed } : {}),
      ...(platform === "airbnb" ? { reserved: d.reserved } : {}),
      ...(platform === "beds24" ? { num_avail: d.rooms_to_sell } : {}),
      price: d.price,
      currency: d.currency,
      updated_at: d.updated_at,
    })),
  });
}

control.get("/airbnb/listings/:id/calendar", (c) => {
  const id = c.req.param("id");
  return calendar(c, "airbnb", id, id);
});

control.get("/booking_com/hotels/:hotel/rooms/:room/calendar", (c) =>
  calendar(c, "booking_com", c.req.param("hotel"), c.req.param("room")),
);

control.get("/beds24/properties/:prop/rooms/:room/calendar", (c) =>
  calendar(c, "beds24", c.req.param("prop"), c.req.param("room")),
);

// Each simulator's own routes: accounts, listings, hotels, rooms, invite codes, credits (before
// the generic per-platform routes).
control.route("/airbnb", airbnbControl);
control.route("/booking_com", bookingControl);
control.route("/beds24", beds24Control);

// ---- per platform: guests, faults, webhooks, logs ----

interface PlatformVars {
  Bindings: Env;
  Variables: AppEnv["Variables"] & { platform: PlatformName; guests: GuestPlatform };
}

const perPlatform = new Hono<PlatformVars>();

perPlatform.use("*", async (c, next) => {
  const p = c.req.param("platform") ?? "";
  if (!isPlatformName(p)) return unknownPlatform(c);
  c.set("platform", p);
  return next();
});

type PCtx = Context<PlatformVars>;

// Guests book (and webhooks are signed) on Airbnb and Booking.com only: Beds24 simulates the
// calendar side, not reservations.
const withGuests = async (c: PCtx, next: () => Promise<void>) => {
  const platform = c.get("platform");
  if (!isGuestPlatform(platform)) {
    return c.json(
      { error: "not_found", message: `${platform} reservations and webhooks are not simulated` },
      404,
    );
  }
  c.set("guests", platform);
  return next();
};
perPlatform.use("/reservations", withGuests);
perPlatform.use("/reservations/*", withGuests);
perPlatform.use("/webhooks/*", withGuests);

function deliveryMode(c: PCtx): DeliveryMode | null {
  return parseDeliveryMode(c.req.query("deliver"));
}

const badMode = (c: Context) => invalid(c, "deliver must be sync or none");

async function answer(c: PCtx, mode: DeliveryMode, result: ReservationResult, status: 200 | 201) {
  if (!result.ok) return c.json({ error: result.error, message: result.message }, result.status);
  const platform = c.get("guests");
  const side = GUEST_SIDE[platform];
  const { reservation } = result;
  const deliveries = await emit(
    c.env,
    platform,
    side.event(reservation.last_action, reservation),
    mode,
  );
  return c.json(
    { reservation: side.serialize(reservation), calendar_open: result.calendar_open, deliveries },
    status,
  );
}

perPlatform.post("/reservations", async (c) => {
  const platform = c.get("guests");
  const mode = deliveryMode(c);
  if (!mode) return badMode(c);
  const stub = platformState(c.env, platform);
  if (platform === "airbnb") {
    const body = await readBody(c, airbnbReservationBody);
    if (!body.ok) return body.response;
    return answer(c, mode, await stub.createReservation(airbnbBooking(body.data), platform), 201);
  }
  const body = await readBody(c, bookingReservationBody);
  if (!body.ok) return body.response;
  return answer(c, mode, await stub.createReservation(bookingComBooking(body.data), platform), 201);
});

perPlatform.post("/reservations/:id/modify", async (c) => {
  const platform = c.get("guests");
  const mode = deliveryMode(c);
  if (!mode) return badMode(c);
  const body = await readBody(c, modifyBody);
  if (!body.ok) return body.response;
  const stub = platformState(c.env, platform);
  return answer(c, mode, await stub.modifyReservation(c.req.param("id"), body.data, platform), 200);
});

perPlatform.post("/reservations/:id/cancel", async (c) => {
  const platform = c.get("guests");
  const mode = deliveryMode(c);
  if (!mode) return badMode(c);
  const stub = platformState(c.env, platform);
  return answer(c, mode, await stub.cancelReservation(c.req.param("id"), platform), 200);
});

perPlatform.get("/faults", async (c) =>
  c.json({ faults: await platformState(c.env, c.get("platform")).getFaults() }),
);

perPlatform.post("/faults", async (c) => {
  const body = await readBody(c, faultsBody);
  if (!body.ok) return body.response;
  return c.json({ faults: await platformState(c.env, c.get("platform")).setFaults(body.data) });
});

perPlatform.delete("/faults", async (c) =>
  c.json({ faults: await platformState(c.env, c.get("platform")).clearFaults() }),
);

perPlatform.post("/webhooks/flush", async (c) => {
  const mode = deliveryMode(c);
  if (!mode) return badMode(c);
  return c.json({ deliveries: await flush(c.env, c.get("guests"), mode) });
});

perPlatform.get("/requests", async (c) => {
  const limit = clampLimit(c.req.query("limit"), 500, 500);
  return c.json({ requests: await platformState(c.env, c.get("platform")).requests(limit) });
});

/** Without `after`: the newest `limit` bodies; with it, the next page after that id. */
perPlatform.get("/received", async (c) => {
  const rawAfter = c.req.query("after");
  if (rawAfter !== undefined && !/^\d{1,15}$/.test(rawAfter)) {
    return invalid(c, "after must be a received id (a non-negative integer)");
  }
  const query = {
    after: rawAfter === undefined ? null : Number(rawAfter),
    limit: clampLimit(c.req.query("limit"), 200, 1000),
  };
  return c.json({ received: await platformState(c.env, c.get("platform")).received(query) });
});

control.route("/:platform", perPlatform);

control.all("*", (c) => c.json({ error: "not_found" }, 404));
