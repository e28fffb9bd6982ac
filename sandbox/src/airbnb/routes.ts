import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { apiGate, type PlatformProfile, requestLog, storeRawBody } from "../gate";
import { parseRange } from "../lib/dates";
import { readOAuthParams, sleep } from "../lib/http";
import { randomHex } from "../lib/random";
import { platformState } from "../state/platform-state";
import { type OperationKind, parseOperations } from "./calendar-ops";
import { airbnbReservation } from "./reservation-json";

const TOKEN_TTL_S = 3600;

const ERROR_CODES = {
  unauthorized: "invalid_token",
  rate_limited: "rate_limited",
  unavailable: "service_unavailable",
  timeout: "gateway_timeout",
} as const;

export const airbnbProfile: PlatformProfile = {
  name: "airbnb",
  // Seeds: 10 requests per second per host.
  rateLimit: { limit: 10, windowMs: 1000 },
  error: (c, kind, status, message) =>
    c.json({ error: ERROR_CODES[kind], message }, status as ContentfulStatusCode),
};

export const airbnb = new Hono<AppEnv>();

airbnb.use("*", requestLog("airbnb"));

/** OAuth 2.0 refresh-token grant (the authorization-code step happened when the host connected). */
airbnb.post("/oauth2/token", async (c) => {
  const faults = await platformState(c.env, "airbnb").getFaults();
  if (faults.latency_ms > 0) await sleep(faults.latency_ms);
  const p = await readOAuthParams(c.req.raw);
  c.header("Cache-Control", "no-store");
  if (p.client_id !== c.env.AIRBNB_CLIENT_ID || p.client_secret !== c.env.AIRBNB_CLIENT_SECRET) {
    return c.json({ error: "invalid_client" }, 401);
  }
  if (p.grant_type !== "refresh_token") return c.json({ error: "unsupported_grant_type" }, 400);
  if (p.refresh_token !== c.env.AIRBNB_REFRESH_TOKEN)
    return c.json({ error: "invalid_grant" }, 400);
  const token = randomHex(32);
  await platformState(c.env, "airbnb").mintToken(token, p.client_id, TOKEN_TTL_S * 1000, null);
  return c.json({
    access_token: token,
    token_type: "bearer",
    expires_in: TOKEN_TTL_S,
    refresh_token: c.env.AIRBNB_REFRESH_TOKEN,
  });
});

airbnb.use("/v2/*", apiGate(airbnbProfile));

const notFound = { error: "not_found" } as const;

airbnb.get("/v2/reservations/:code", async (c) => {
  const row = await platformState(c.env, "airbnb").getReservation(c.req.param("code"));
  return row ? c.json({ reservation: airbnbReservation(row) }) : c.json(notFound, 404);
});

airbnb.get("/v2/listings/:listing_id/reservations", async (c) => {
  const id = c.req.param("listing_id");
  const stub = platformState(c.env, "airbnb");
  if (!(await stub.getUnit(id, id))) return c.json(notFound, 404);
  const rows = await stub.listReservations(id, id);
  return c.json({ reservations: rows.map(airbnbReservation) });
});

airbnb.get("/v2/listings/:listing_id/calendar", async (c) => {
  const id = c.req.param("listing_id");
  const range = parseRange(c.req.query("start_date"), c.req.query("end_date"), [
    "start_date",
    "end_date",
  ]);
  if (!range.ok) return c.json({ error: "validation_error", message: range.message }, 400);
  const days = await platformState(c.env, "airbnb").readCalendar(
    id,
    id,
    range.start,
    range.end,
    "airbnb",
  );
  if (!days) return c.json(notFound, 404);
  return c.json({
    days: days.map((d) => ({
      date: d.date,
      availability: d.closed || d.reserved ? "unavailable" : "available",
      nightly_price: d.price,
      currency: d.currency,
    })),
  });
});

function calendarWrite(kind: OperationKind) {
  return async (c: Context<AppEnv>) => {
    const id = c.req.param("listing_id")!;
    const stub = platformState(c.env, "airbnb");
    const raw = await c.req.text();
    await storeRawBody(c, "airbnb", raw);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return c.json({ error: "validation_error", message: "body is not valid JSON" }, 400);
    }
    const parsed = parseOperations(body, kind, Date.now());
    if (!parsed.ok) return c.json({ error: "validation_error", message: parsed.message }, 400);
    const result = await stub.idempotentWrite({
      propertyId: id,
      unitId: id,
      writes: parsed.operations.map((op) => ({ property_id: id, unit_id: id, ...op })),
      key: c.req.header("idempotency-key") ?? null,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      requestBody: raw,
    });
    switch (result.kind) {
      case "not_found":
        return c.json(notFound, 404);
      case "mismatch":
        return c.json(
          {
            error: "idempotency_key_reused",
            message: "This Idempotency-Key was already used with a different request",
          },
          422,
        );
      default:
        if (result.kind === "replayed") c.header("Idempotent-Replayed", "true");
        return c.body(result.body, result.status as ContentfulStatusCode, {
          "Content-Type": "application/json",
        });
    }
  };
}

airbnb.put("/v2/listings/:listing_id/calendar", calendarWrite("availability"));
airbnb.put("/v2/listings/:listing_id/pricing", calendarWrite("pricing"));

airbnb.all("*", (c) => c.json(notFound, 404));
