import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../kit/app-env";
import { parseRange } from "../kit/dates";
import { apiGate, authLatency, requestLog } from "../kit/gate";
import { readOAuthParams } from "../kit/http";
import { randomHex } from "../kit/random";
import { platformState } from "../platform-state";
import { type OperationKind, parseOperations } from "./calendar-ops";
import { airbnbProfile, TOKEN_TTL_S } from "./profile";
import { airbnbReservation } from "./reservation-json";

export const airbnbRoutes = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, airbnbProfile.name);

airbnbRoutes.use("*", requestLog(airbnbProfile.name));

/**
 * OAuth 2.0 refresh-token grant (the authorization-code step happened when the host connected).
 * The client is the app (one id and secret); the refresh token names the host account, and the
 * access token minted acts for that account only.
 */
airbnbRoutes.post("/oauth2/token", async (c) => {
  const stub = state(c);
  await authLatency(c.env, airbnbProfile.name);
  const p = await readOAuthParams(c.req.raw);
  c.header("Cache-Control", "no-store");
  if (p.client_id !== c.env.AIRBNB_CLIENT_ID || p.client_secret !== c.env.AIRBNB_CLIENT_SECRET) {
    return c.json({ error: "invalid_client" }, 401);
  }
  if (p.grant_type !== "refresh_token") return c.json({ error: "unsupported_grant_type" }, 400);
  const refreshToken = p.refresh_token ?? "";
  const account = await stub.accountForRefreshToken(refreshToken, c.env.AIRBNB_REFRESH_TOKEN);
  if (!account) return c.json({ error: "invalid_grant" }, 400);
  const token = randomHex(32);
  await stub.mintToken(token, account, TOKEN_TTL_S * 1000, null);
  return c.json({
    access_token: token,
    token_type: "bearer",
    expires_in: TOKEN_TTL_S,
    refresh_token: refreshToken,
  });
});

airbnbRoutes.use("/v2/*", apiGate(airbnbProfile));

const notFound = { error: "not_found" } as const;

/** Every listing-scoped call: 404 for an unknown listing, 403 for another host's. */
airbnbRoutes.use("/v2/listings/:listing_id/*", async (c, next) => {
  const id = c.req.param("listing_id");
  const access = await state(c).propertyAccess(id, c.get("account") ?? "");
  if (access === "not_found") return c.json(notFound, 404);
  if (access === "forbidden") {
    return c.json(
      { error: "forbidden", message: `listing ${id} is not managed by this account` },
      403,
    );
  }
  return next();
});

airbnbRoutes.get("/v2/reservations/:code", async (c) => {
  const code = c.req.param("code");
  const found = await state(c).reservationFor(code, c.get("account") ?? "");
  if (found.access === "ok") return c.json({ reservation: airbnbReservation(found.reservation) });
  if (found.access === "not_found") return c.json(notFound, 404);
  return c.json(
    { error: "forbidden", message: `reservation ${code} is not managed by this account` },
    403,
  );
});

/** The listing as its host's token sees it (the proof that this account may write it). */
airbnbRoutes.get("/v2/listings/:listing_id", async (c) => {
  const id = c.req.param("listing_id");
  const unit = await state(c).getUnit(id, id);
  if (!unit) return c.json(notFound, 404);
  return c.json({
    listing: {
      id,
      account_id: c.get("account"),
      nightly_price: unit.price,
      currency: unit.currency,
    },
  });
});

airbnbRoutes.get("/v2/listings/:listing_id/reservations", async (c) => {
  const id = c.req.param("listing_id");
  const rows = await state(c).listReservations(id, id);
  return c.json({ reservations: rows.map(airbnbReservation) });
});

airbnbRoutes.get("/v2/listings/:listing_id/calendar", async (c) => {
  const id = c.req.param("listing_id");
  const range = parseRange(c.req.query("start_date"), c.req.query("end_date"), [
    "start_date",
    "end_date",
  ]);
  if (!range.ok) return c.json({ error: "validation_error", message: range.message }, 400);
  const days = await state(c).readCalendar(id, id, range.start, range.end, airbnbProfile.inventory);
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
    const stub = state(c);
    const raw = await c.req.text();
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

airbnbRoutes.put("/v2/listings/:listing_id/calendar", calendarWrite("availability"));
airbnbRoutes.put("/v2/listings/:listing_id/pricing", calendarWrite("pricing"));

airbnbRoutes.all("*", (c) => c.json(notFound, 404));
