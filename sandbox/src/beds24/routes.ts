import { type Context, Hono } from "hono";
import type { AppEnv } from "../kit/app-env";
import { parseRange } from "../kit/dates";
import { answerDecision, authLatency, requestLog } from "../kit/gate";
import type { DayPatch, DayWrite } from "../kit/store/types";
import { platformState } from "../platform-state";
import { calendarPostBody, calendarPostCostTenths, compressDays, type DayValue } from "./calendar";
import { beds24Profile, fail } from "./profile";
import type { Credits } from "./store";

/**
 * Beds24 API v2 (JSON): header `token` on every call, credits per rolling 5 minutes reported in
 * `x-request-cost` / `x-five-min-limit-remaining` / `x-five-min-limit-resets-in` on every answer.
 */
export const beds24Routes = new Hono<AppEnv>();

beds24Routes.use("*", requestLog(beds24Profile.name));

const state = (c: Context<AppEnv>) => platformState(c.env, beds24Profile.name);

function creditHeaders(c: Context<AppEnv>, credits: Credits): void {
  c.header("x-request-cost", String(credits.cost));
  c.header("x-five-min-limit-remaining", String(credits.remaining));
  c.header("x-five-min-limit-resets-in", String(credits.resets_in));
}

// ---- authentication (free; faults other than latency do not apply, as for the others' OAuth) ----

beds24Routes.get("/authentication/setup", async (c) => {
  await authLatency(c.env, beds24Profile.name);
  const code = c.req.header("code");
  if (!code) return fail(c, 400, "header code (invite code) is required");
  const grant = await state(c).redeemInviteCode(code);
  if (!grant) return fail(c, 400, "invite code is invalid or already used");
  creditHeaders(c, grant.credits);
  return c.json({
    token: grant.token,
    expiresIn: grant.expiresIn,
    refreshToken: grant.refreshToken,
  });
});

beds24Routes.get("/authentication/token", async (c) => {
  await authLatency(c.env, beds24Profile.name);
  const refreshToken = c.req.header("refreshToken");
  if (!refreshToken) return fail(c, 400, "header refreshToken is required");
  const grant = await state(c).refreshAccessToken(refreshToken, c.env.BEDS24_REFRESH_TOKEN);
  if (!grant) return fail(c, 400, "refresh token is invalid");
  creditHeaders(c, grant.credits);
  return c.json({ token: grant.token, expiresIn: grant.expiresIn });
});

beds24Routes.get("/authentication/details", async (c) => {
  await authLatency(c.env, beds24Profile.name);
  const details = await state(c).tokenDetails(c.req.header("token") ?? null);
  if (!details) {
    creditHeaders(c, { cost: 0, remaining: 100, resets_in: 0 });
    return c.json({ validToken: false });
  }
  creditHeaders(c, details.credits);
  return c.json({
    validToken: true,
    token: { ownerId: details.account, expiresIn: details.expiresIn, scopes: ["all:inventory"] },
  });
});

// ---- the gate in front of every other call: faults, token, credits ----

const REFUSALS = {
  unauthorized: "Token is missing, invalid or expired",
  enforced: "Credit limit exceeded: 100 credits per 5 minutes",
  rate_limited: "Credit limit exceeded",
  timeout: "Upstream timed out",
  unavailable: "Service temporarily unavailable",
} as const;

beds24Routes.use("*", async (c, next) => {
  if (c.req.path.includes("/authentication/")) return next();
  let cost = 10;
  if (c.req.method === "POST") {
    // The body decides the cost; Hono caches it for the handler.
    let body: unknown = null;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      // An unreadable body costs the base credit and is refused by the handler.
    }
    cost = calendarPostCostTenths(body);
  }
  const decision = await state(c).creditGate(
    c.req.header("token") ?? null,
    cost,
    new URL(c.req.url).pathname,
  );
  return answerDecision(
    c,
    decision,
    next,
    (r) =>
      fail(c, r.status, REFUSALS[r.kind === "rate_limited" && r.enforced ? "enforced" : r.kind]),
    () => creditHeaders(c, decision.credits),
  );
});

// ---- calendar ----

beds24Routes.post("/inventory/rooms/calendar", async (c) => {
  const raw = await c.req.text();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail(c, 400, "body is not valid JSON");
  }
  const parsed = calendarPostBody.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return fail(c, 400, `${first?.path.join(".") || "body"}: ${first?.message ?? "invalid"}`);
  }
  const stub = state(c);
  const account = c.get("account") ?? "";
  const results = [];
  for (const item of parsed.data) {
    const room = await stub.ownedRoom(String(item.roomId), account);
    if (!room) {
      // Per item, as Beds24 answers: the other rooms of the request are still applied. Another
      // account's room is refused exactly like an unknown one.
      results.push({
        success: false,
        errors: [{ field: "roomId", message: `room ${item.roomId} not found` }],
      });
      continue;
    }
    const warnings: Array<{ field: string; message: string }> = [];
    const writes: DayWrite[] = item.calendar.map((e) => {
      const patch: DayPatch = {};
      if (e.numAvail !== undefined) patch.rooms_to_sell = e.numAvail;
      if (e.price1 !== undefined) patch.price = e.price1.toFixed(2);
      for (const k of Object.keys(e)) {
        if (/^price([2-9]|1[0-6])$/.test(k) || k === "minStay" || k === "maxStay") {
          warnings.push({
            field: k,
            message: "accepted; the sandbox simulates numAvail and price1",
          });
        }
      }
      return {
        property_id: room.property_id,
        unit_id: room.unit_id,
        start: e.from,
        end: e.to,
        patch,
      };
    });
    await stub.writeDays(writes);
    results.push({
      success: true,
      modified: { roomId: item.roomId, calendar: item.calendar },
      ...(warnings.length ? { warnings } : {}),
    });
  }
  return c.json(results);
});

beds24Routes.get("/inventory/rooms/calendar", async (c) => {
  const range = parseRange(c.req.query("startDate"), c.req.query("endDate"), [
    "startDate",
    "endDate",
  ]);
  if (!range.ok) return fail(c, 400, range.message);
  const ids = c.req.queries("roomId") ?? [];
  const bad = ids.find((id) => !/^[1-9]\d{0,9}$/.test(id));
  if (bad !== undefined) return fail(c, 400, `roomId must be numeric (got "${bad}")`);
  const withAvail = c.req.query("includeNumAvail") === "true";
  const withPrices = c.req.query("includePrices") === "true";
  const stub = state(c);
  const account = c.get("account") ?? "";
  // Only the token's account's rooms: another account's room id reads as unknown (left out).
  const rooms = ids.length
    ? (await Promise.all(ids.map((id) => stub.ownedRoom(id, account)))).filter((r) => r !== null)
    : await stub.ownedRooms(account);
  const data = [];
  for (const room of rooms) {
    const days =
      withAvail || withPrices
        ? ((await stub.readCalendar(
            room.property_id,
            room.unit_id,
            range.start,
            range.end,
            beds24Profile.inventory,
          )) ?? [])
        : [];
    const values: DayValue[] = days.map((d) => ({
      date: d.date,
      ...(withAvail ? { numAvail: d.rooms_to_sell } : {}),
      ...(withPrices && d.price !== null ? { price1: Number(d.price) } : {}),
    }));
    data.push({
      roomId: Number(room.unit_id),
      propertyId: Number(room.property_id),
      calendar: compressDays(values),
    });
  }
  return c.json({ success: true, type: "calendar", count: data.length, data });
});

// ---- properties ----

/**
 * The token's account's properties (optionally only the `id`s asked for), with their room types
 * when `includeAllRooms=true`. Another account's or an unknown property is simply absent.
 */
beds24Routes.get("/properties", async (c) => {
  const ids = c.req.queries("id") ?? [];
  const bad = ids.find((id) => !/^[1-9]\d{0,9}$/.test(id));
  if (bad !== undefined) return fail(c, 400, `id must be numeric (got "${bad}")`);
  const withRooms = c.req.query("includeAllRooms") === "true";
  const properties = await state(c).accountProperties(
    c.get("account") ?? "",
    ids.length ? ids : null,
  );
  const data = properties.map((p) => ({
    id: Number(p.id),
    name: `Property ${p.id}`,
    ...(withRooms
      ? {
          roomTypes: p.rooms.map((r) => ({
            id: Number(r.unit_id),
            name: `Room ${r.unit_id}`,
            qty: r.units,
          })),
        }
      : {}),
  }));
  return c.json({
    success: true,
    type: "property",
    count: data.length,
    pages: { nextPageExists: false, nextPageLink: null },
    data,
  });
});

beds24Routes.all("*", (c) => fail(c, 404, "not found"));
