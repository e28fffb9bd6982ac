import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { beds24Adapter, exchangeInviteCode } from "../../../../src/platforms/beds24/adapter";
import { platformConfig } from "../../../../src/platforms/registry";
import { resetTokenCache } from "../../../../src/platforms/kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
} from "../../../../src/platforms/contract";
import { addDaysUtc, sandbox, uniqueDigits } from "../../../support/fixtures";
import { pushNights } from "../../../support/push";

/**
 * The Beds24 adapter against the sandbox's Beds24 simulator over real HTTP: the invite-code setup,
 * token refresh, availability and price pushes read back through the API, and error kinds.
 */

interface Traced {
  ctx: AdapterContext;
  calls: Array<{ method: string; path: string; status: number; cost: string | null }>;
}

function traced(refreshToken?: string, account?: string): Traced {
  const config = platformConfig(env, "beds24");
  const calls: Traced["calls"] = [];
  const ctx: AdapterContext = {
    baseUrl: config.baseUrl,
    credentials: {
      ...config.credentials,
      ...(refreshToken ? { refreshToken } : {}),
      ...(account ? { account } : {}),
    },
    now: () => Date.now(),
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const res = await fetch(req);
      calls.push({
        method: req.method,
        path: new URL(req.url).pathname,
        status: res.status,
        cost: res.headers.get("x-request-cost"),
      });
      return res;
    },
  };
  return { ctx, calls };
}

/** A Beds24 account connected the way an operator would: invite code → refresh token. */
async function connect(): Promise<Traced & { account: string; refreshToken: string }> {
  const { code, account } = await sandbox<{ code: string; account: string }>(
    "POST",
    "/_sandbox/beds24/invite-codes",
    {},
  );
  const { ctx } = traced();
  const { refreshToken } = await exchangeInviteCode(ctx, code);
  return { ...traced(refreshToken, account), account, refreshToken };
}

/** A room of a new property of `account` (the configured token's account by default). */
async function newRoom(units = 2, account?: string): Promise<{ prop: string; room: string }> {
  const prop = `4${uniqueDigits(5)}`;
  const room = `7${uniqueDigits(7)}`;
  await sandbox("PUT", `/_sandbox/beds24/properties/${prop}/rooms/${room}`, {
    ...(account ? { account } : {}),
    units,
    price: "100.00",
    currency: "EUR",
  });
  return { prop, room };
}

/**
 * The calendar as the Beds24 API answers it (range-compressed), read with a fresh token of the
 * room's account.
 */
async function apiCalendar(
  room: string,
  from: string,
  to: string,
  refreshToken = env.BEDS24_REFRESH_TOKEN,
) {
  const { token } = await (
    await fetch(`http://sandbox.test/beds24/authentication/token`, {
      headers: { refreshToken },
    })
  ).json<{ token: string }>();
  const res = await fetch(
    `http://sandbox.test/beds24/inventory/rooms/calendar?startDate=${from}&endDate=${to}&roomId=${room}&includeNumAvail=true&includePrices=true`,
    { headers: { token } },
  );
  const body = await res.json<{
    data: Array<{
      calendar: Array<{ from: string; to: string; numAvail: number; price1: number }>;
    }>;
  }>();
  return body.data[0]!.calendar;
}

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

beforeEach(async () => {
  resetTokenCache();
  await sandbox("DELETE", "/_sandbox/beds24/faults");
});
afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/beds24/faults");
});

describe("Beds24 adapter against the sandbox", () => {
  it("pushes availability and prices in one call each and reads them back compressed", async () => {
    const { ctx, calls, account, refreshToken } = await connect();
    const { room } = await newRoom(2, account);
    const nights: NightState[] = Array.from({ length: 10 }, (_, i) => ({
      date: addDaysUtc(i + 1),
      available: i < 4 ? 0 : i < 7 ? 1 : 2,
      priceMinor: i < 5 ? 12_000 : 13_550,
      currency: "EUR",
    }));
    const target = { externalPropertyId: "1", externalRoomId: room };
    const pushed = await pushNights(beds24Adapter, ctx, target, nights);
    expect(pushed).toEqual({ calls: 2, nights: 10 });
    expect(calls.map((c) => `${c.method} ${c.path} ${c.status} ${c.cost}`)).toEqual([
      "GET /beds24/authentication/token 200 0",
      "POST /beds24/inventory/rooms/calendar 200 1.1",
      "POST /beds24/inventory/rooms/calendar 200 1.1",
    ]);
    expect(await apiCalendar(room, addDaysUtc(1), addDaysUtc(10), refreshToken)).toEqual([
      { from: addDaysUtc(1), to: addDaysUtc(4), numAvail: 0, price1: 120 },
      { from: addDaysUtc(5), to: addDaysUtc(5), numAvail: 1, price1: 120 },
      { from: addDaysUtc(6), to: addDaysUtc(7), numAvail: 1, price1: 135.5 },
      { from: addDaysUtc(8), to: addDaysUtc(10), numAvail: 2, price1: 135.5 },
    ]);

    // A price push leaves numAvail as it is, an availability push leaves prices.
    const plan = beds24Adapter.planPush(
      target,
      {
        availability: [{ date: addDaysUtc(8), available: 0 }],
        price: [{ date: addDaysUtc(1), available: 2, priceMinor: 9_900, currency: "EUR" }],
      },
      Date.now(),
    );
    for (const call of plan.calls) await call.send(ctx);
    const after = await apiCalendar(room, addDaysUtc(1), addDaysUtc(8), refreshToken);
    expect(after[0]).toEqual({ from: addDaysUtc(1), to: addDaysUtc(1), numAvail: 0, price1: 99 });
    expect(after.at(-1)).toEqual({
      from: addDaysUtc(8),
      to: addDaysUtc(8),
      numAvail: 0,
      price1: 135.5,
    });
  });

  it("the configured BEDS24_REFRESH_TOKEN works for connections without their own", async () => {
    const { ctx, calls } = traced();
    const { room } = await newRoom(1);
    await pushNights(beds24Adapter, ctx, { externalPropertyId: "1", externalRoomId: room }, [
      { date: addDaysUtc(2), available: 0 },
    ]);
    expect(calls.map((c) => c.status)).toEqual([200, 200]);
    expect((await apiCalendar(room, addDaysUtc(2), addDaysUtc(2)))[0]!.numAvail).toBe(0);
  });

  it("a 401 causes one token refresh and one retry; a second 401 is an auth error", async () => {
    const { ctx, calls, account } = await connect();
    const { room } = await newRoom(1, account);
    const target = { externalPropertyId: "1", externalRoomId: room };
    const night = [{ date: addDaysUtc(3), available: 1 }];
    await pushNights(beds24Adapter, ctx, target, night); // a token exists now
    calls.length = 0;
    await sandbox("POST", "/_sandbox/beds24/faults", { fail_next: 1, fail_status: 401 });
    await pushNights(beds24Adapter, ctx, target, night);
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      "POST 401",
      "GET 200",
      "POST 200",
    ]);

    calls.length = 0;
    await sandbox("POST", "/_sandbox/beds24/faults", { fail_next: 2, fail_status: 401 });
    const err = await failure(pushNights(beds24Adapter, ctx, target, night));
    expect(err).toMatchObject({ kind: "auth", status: 401 });
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      "POST 401",
      "GET 200",
      "POST 401",
    ]);
  });

  it("classifies a refused refresh token as auth, 429 as rate_limited with Retry-After, 5xx as transient, an unknown room as permanent", async () => {
    const { ctx, account } = await connect();
    const { room } = await newRoom(1, account);
    const target = { externalPropertyId: "1", externalRoomId: room };
    const night = [{ date: addDaysUtc(4), available: 1 }];
    const revoked = traced("revoked-refresh-token", "acct-revoked");
    expect(await failure(pushNights(beds24Adapter, revoked.ctx, target, night))).toMatchObject({
      kind: "auth",
      status: 400,
    });

    await sandbox("POST", "/_sandbox/beds24/faults", { enforce_rate_limit: true });
    await sandbox("POST", `/_sandbox/beds24/accounts/${account}/credits`, { spend: 99.5 });
    const limited = await failure(pushNights(beds24Adapter, ctx, target, night));
    expect(limited.kind).toBe("rate_limited");
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    await sandbox("DELETE", `/_sandbox/beds24/accounts/${account}/credits`);

    await sandbox("POST", "/_sandbox/beds24/faults", { fail_next: 1, fail_status: 503 });
    expect((await failure(pushNights(beds24Adapter, ctx, target, night))).kind).toBe("transient");

    const unknown = await failure(
      pushNights(beds24Adapter, ctx, { externalPropertyId: "1", externalRoomId: "99" }, night),
    );
    expect(unknown.kind).toBe("permanent");
    expect(unknown.message).toContain("room 99");
  });
});
