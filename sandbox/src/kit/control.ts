import { type Context, Hono } from "hono";
import { platformState } from "../platform-state";
import type { AppEnv } from "./app-env";
import { invalid, readBody } from "./control-body";
import { faultsBody, modifyBody } from "./control-schemas";
import { clampLimit } from "./http";
import type { GuestSide, Simulator } from "./simulator";
import type { ReservationResult } from "./store/types";
import { type DeliveryMode, emit, flush, parseDeliveryMode } from "./webhooks";

/**
 * The control API (`/_sandbox`): drives the simulators from tests and tools. No auth: it is never
 * deployed. Each simulator's own control routes come first; then what every simulator has
 * (faults, request log, received bodies) and, for those with guests, reservations and webhooks.
 */
export function controlApi(simulators: readonly Simulator[]): Hono<AppEnv> {
  const names = simulators.map((s) => s.profile.name);
  const unknownPlatform = (c: Context) =>
    c.json({ error: "not_found", message: `platform must be one of ${names.join(", ")}` }, 404);
  const control = new Hono<AppEnv>();

  control.post("/reset", async (c) => {
    const only = c.req.query("platform");
    if (only !== undefined && !names.includes(only)) return unknownPlatform(c);
    const targets = only ? [only] : names;
    await Promise.all(targets.map((p) => platformState(c.env, p).reset()));
    return c.json({ ok: true, reset: targets });
  });

  for (const s of simulators) control.route(`/${s.profile.name}`, s.control);
  control.route("/:platform", perPlatform(simulators, unknownPlatform));
  control.all("*", (c) => c.json({ error: "not_found" }, 404));
  return control;
}

interface PlatformVars {
  Bindings: Env;
  Variables: AppEnv["Variables"] & { simulator: Simulator; guests: GuestSide };
}

type PCtx = Context<PlatformVars>;

function deliveryMode(c: PCtx): DeliveryMode | null {
  return parseDeliveryMode(c.req.query("deliver"));
}

const badMode = (c: Context) => invalid(c, "deliver must be sync or none");

const state = (c: PCtx) => platformState(c.env, c.get("simulator").profile.name);

/** Per platform: guests, faults, webhooks, logs. */
function perPlatform(
  simulators: readonly Simulator[],
  unknownPlatform: (c: Context) => Response,
): Hono<PlatformVars> {
  const byName = new Map(simulators.map((s) => [s.profile.name, s]));
  const routes = new Hono<PlatformVars>();

  routes.use("*", async (c, next) => {
    const simulator = byName.get(c.req.param("platform") ?? "");
    if (!simulator) return unknownPlatform(c);
    c.set("simulator", simulator);
    return next();
  });

  // Guests book (and webhooks are signed) only where the simulator says so.
  const withGuests = async (c: PCtx, next: () => Promise<void>) => {
    const { profile, guests } = c.get("simulator");
    if (!guests) {
      return c.json(
        {
          error: "not_found",
          message: `${profile.name} reservations and webhooks are not simulated`,
        },
        404,
      );
    }
    c.set("guests", guests);
    return next();
  };
  routes.use("/reservations", withGuests);
  routes.use("/reservations/*", withGuests);
  routes.use("/webhooks/*", withGuests);

  reservationRoutes(routes);
  logRoutes(routes);
  return routes;
}

async function answer(c: PCtx, mode: DeliveryMode, result: ReservationResult, status: 200 | 201) {
  if (!result.ok) return c.json({ error: result.error, message: result.message }, result.status);
  const side = c.get("guests");
  const { reservation } = result;
  const deliveries = await emit(
    c.env,
    c.get("simulator").profile.name,
    side.webhook,
    side.event(reservation.last_action, reservation),
    mode,
  );
  return c.json(
    { reservation: side.serialize(reservation), calendar_open: result.calendar_open, deliveries },
    status,
  );
}

function reservationRoutes(routes: Hono<PlatformVars>): void {
  routes.post("/reservations", async (c) => {
    const mode = deliveryMode(c);
    if (!mode) return badMode(c);
    const body = await c.get("guests").readReservation(c);
    if (!body.ok) return body.response;
    const model = c.get("simulator").profile.inventory;
    return answer(c, mode, await state(c).createReservation(body.data, model), 201);
  });

  routes.post("/reservations/:id/modify", async (c) => {
    const mode = deliveryMode(c);
    if (!mode) return badMode(c);
    const body = await readBody(c, modifyBody);
    if (!body.ok) return body.response;
    const model = c.get("simulator").profile.inventory;
    return answer(
      c,
      mode,
      await state(c).modifyReservation(c.req.param("id"), body.data, model),
      200,
    );
  });

  routes.post("/reservations/:id/cancel", async (c) => {
    const mode = deliveryMode(c);
    if (!mode) return badMode(c);
    const model = c.get("simulator").profile.inventory;
    return answer(c, mode, await state(c).cancelReservation(c.req.param("id"), model), 200);
  });

  routes.post("/webhooks/flush", async (c) => {
    const mode = deliveryMode(c);
    if (!mode) return badMode(c);
    const name = c.get("simulator").profile.name;
    return c.json({ deliveries: await flush(c.env, name, c.get("guests").webhook, mode) });
  });
}

function logRoutes(routes: Hono<PlatformVars>): void {
  routes.get("/faults", async (c) => c.json({ faults: await state(c).getFaults() }));

  routes.post("/faults", async (c) => {
    const body = await readBody(c, faultsBody);
    if (!body.ok) return body.response;
    return c.json({ faults: await state(c).setFaults(body.data) });
  });

  routes.delete("/faults", async (c) => c.json({ faults: await state(c).clearFaults() }));

  routes.get("/requests", async (c) => {
    const limit = clampLimit(c.req.query("limit"), 500, 500);
    return c.json({ requests: await state(c).requests(limit) });
  });

  /** Without `after`: the newest `limit` bodies; with it, the next page after that id. */
  routes.get("/received", async (c) => {
    const rawAfter = c.req.query("after");
    if (rawAfter !== undefined && !/^\d{1,15}$/.test(rawAfter)) {
      return invalid(c, "after must be a received id (a non-negative integer)");
    }
    const query = {
      after: rawAfter === undefined ? null : Number(rawAfter),
      limit: clampLimit(c.req.query("limit"), 200, 1000),
    };
    return c.json({ received: await state(c).received(query) });
  });
}
