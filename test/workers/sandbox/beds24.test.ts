import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  beds24Account,
  call,
  control,
  day,
  type Reply,
  resetSandbox,
  uniqueDigits,
} from "./helpers";

/** The Beds24 simulator: auth, calendar, validation, credits and their headers. */

beforeAll(resetSandbox);
afterEach(async () => {
  await control("DELETE", "/_sandbox/beds24/faults");
});

const CALENDAR = "/beds24/inventory/rooms/calendar";

/** A room of a new property of `account` (the configured refresh token's account by default). */
async function newRoom(
  units = 2,
  price = "100.00",
  account?: string,
): Promise<{ prop: string; room: string }> {
  const prop = `4${uniqueDigits(5)}`;
  const room = `7${uniqueDigits(7)}`;
  await control("PUT", `/_sandbox/beds24/properties/${prop}/rooms/${room}`, {
    units,
    price,
    ...(account ? { account } : {}),
  });
  return { prop, room };
}

const post = (token: string, body: unknown) => call("POST", CALENDAR, { body, headers: { token } });

const credits = (r: Reply) => ({
  cost: Number(r.headers.get("x-request-cost")),
  remaining: Number(r.headers.get("x-five-min-limit-remaining")),
  resetsIn: Number(r.headers.get("x-five-min-limit-resets-in")),
});

function expectCreditHeaders(r: Reply) {
  for (const h of ["x-request-cost", "x-five-min-limit-remaining", "x-five-min-limit-resets-in"]) {
    expect(r.headers.get(h), `${h} on HTTP ${r.status}`).toMatch(/^\d+(\.\d+)?$/);
  }
}

describe("Beds24 authentication", () => {
  it("invite code → token (24 h) + refresh token, once; refresh token → new token", async () => {
    const { code } = await control("POST", "/_sandbox/beds24/invite-codes", { account: "acme" });
    const setup = await call("GET", "/beds24/authentication/setup", { headers: { code } });
    expect(setup.status).toBe(200);
    expect(setup.json).toEqual({
      token: expect.any(String),
      expiresIn: 86400,
      refreshToken: expect.any(String),
    });
    const again = await call("GET", "/beds24/authentication/setup", { headers: { code } });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ success: false, error: expect.any(String) });

    const fresh = await call("GET", "/beds24/authentication/token", {
      headers: { refreshToken: setup.json.refreshToken },
    });
    expect(fresh.status).toBe(200);
    expect(fresh.json).toEqual({ token: expect.any(String), expiresIn: 86400 });
    expect(fresh.json.token).not.toBe(setup.json.token);
    const details = await call("GET", "/beds24/authentication/details", {
      headers: { token: fresh.json.token },
    });
    expect(details.json).toMatchObject({ validToken: true, token: { ownerId: "acme" } });

    // The configured refresh token belongs to the default account.
    const configured = await call("GET", "/beds24/authentication/token", {
      headers: { refreshToken: env.BEDS24_REFRESH_TOKEN },
    });
    expect(configured.status).toBe(200);
    const bad = await call("GET", "/beds24/authentication/token", {
      headers: { refreshToken: "nope" },
    });
    expect(bad.status).toBe(400);
  });

  it("details answers 200 validToken:false for a bad or missing token; the API answers 401", async () => {
    for (const headers of [{ token: "not-a-token" }, {}] as Array<Record<string, string>>) {
      const r = await call("GET", "/beds24/authentication/details", { headers });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ validToken: false });
    }
    for (const headers of [{ token: "not-a-token" }, {}] as Array<Record<string, string>>) {
      const r = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(2)}`, {
        headers,
      });
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ success: false, code: 401, error: expect.any(String) });
      expectCreditHeaders(r);
    }
    // An OAuth bearer header is not Beds24's scheme.
    const { token } = await beds24Account();
    const bearer = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(2)}`, {
      token,
    });
    expect(bearer.status).toBe(401);
  });
});

describe("Beds24 calendar", () => {
  it("POST applies ranges; GET answers them range-compressed per room, only what is included", async () => {
    const { token, account } = await beds24Account();
    const a = await newRoom(2, "100.00", account);
    const b = await newRoom(1, "80.00", account);
    const w = await post(token, [
      {
        roomId: Number(a.room),
        calendar: [
          { from: day(1), to: day(3), numAvail: 0 },
          { from: day(4), to: day(5), price1: 120.5 },
        ],
      },
      { roomId: Number(b.room), calendar: [{ from: day(2), to: day(2), numAvail: 0, price1: 90 }] },
    ]);
    expect(w.status).toBe(200);
    expect(w.json.map((x: { success: boolean }) => x.success)).toEqual([true, true]);

    const query = `startDate=${day(1)}&endDate=${day(6)}&roomId=${a.room}&roomId=${b.room}`;
    const both = await call("GET", `${CALENDAR}?${query}&includeNumAvail=true&includePrices=true`, {
      headers: { token },
    });
    expect(both.status).toBe(200);
    expect(both.json.data).toEqual([
      {
        roomId: Number(a.room),
        propertyId: Number(a.prop),
        calendar: [
          { from: day(1), to: day(3), numAvail: 0, price1: 100 },
          { from: day(4), to: day(5), numAvail: 2, price1: 120.5 },
          { from: day(6), to: day(6), numAvail: 2, price1: 100 },
        ],
      },
      {
        roomId: Number(b.room),
        propertyId: Number(b.prop),
        calendar: [
          { from: day(1), to: day(1), numAvail: 1, price1: 80 },
          { from: day(2), to: day(2), numAvail: 0, price1: 90 },
          { from: day(3), to: day(6), numAvail: 1, price1: 80 },
        ],
      },
    ]);
    // A price write leaves numAvail alone and vice versa; one include at a time compresses more.
    const availOnly = await call("GET", `${CALENDAR}?${query}&includeNumAvail=true`, {
      headers: { token },
    });
    expect(availOnly.json.data[0].calendar).toEqual([
      { from: day(1), to: day(3), numAvail: 0 },
      { from: day(4), to: day(6), numAvail: 2 },
    ]);
    const nothing = await call("GET", `${CALENDAR}?${query}`, { headers: { token } });
    expect(nothing.json.data.map((r: { calendar: unknown[] }) => r.calendar)).toEqual([[], []]);

    // The control read-back shows the same nights.
    const back = await control(
      "GET",
      `/_sandbox/beds24/properties/${a.prop}/rooms/${a.room}/calendar?start=${day(3)}&end=${day(4)}`,
    );
    expect(back.days).toMatchObject([
      { date: day(3), available: false, num_avail: 0, price: "100.00" },
      { date: day(4), available: true, num_avail: 2, price: "120.50" },
    ]);
  });

  it("bad input is 400 with a JSON error and nothing applied; an unknown room fails its item only", async () => {
    const { token, account } = await beds24Account();
    const { prop, room } = await newRoom(3, "100.00", account);
    const roomId = Number(room);
    const bad: Array<[unknown, string]> = [
      [{ roomId, calendar: [] }, "not an array"],
      [
        [{ roomId: String(roomId), calendar: [{ from: day(1), to: day(1), numAvail: 1 }] }],
        "0.roomId",
      ],
      [[{ roomId, calendar: [{ from: day(3), to: day(1), numAvail: 1 }] }], "to"],
      [[{ roomId, calendar: [{ from: "2026-02-30", to: day(1), numAvail: 1 }] }], "from"],
      [[{ roomId, calendar: [{ from: day(1), to: day(1) }] }], "at least one value"],
      [[{ roomId, calendar: [{ from: day(1), to: day(1), numAvail: -1 }] }], "numAvail"],
      [[{ roomId, calendar: [{ from: day(1), to: day(1), price1: 10.555 }] }], "price1"],
      [[{ roomId, calendar: [{ from: day(-5), to: day(1), numAvail: 1 }] }], "yesterday"],
      [[{ roomId, calendar: [{ from: day(1), to: day(1), numAvail: 1, colour: "red" }] }], ""],
    ];
    for (const [body, mention] of bad) {
      const r = await post(token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toMatchObject({ success: false, code: 400, error: expect.any(String) });
      if (mention !== "not an array") expect(r.json.error).toContain(mention);
      expectCreditHeaders(r);
    }
    const raw = await call("POST", CALENDAR, { raw: "{nope", headers: { token } });
    expect(raw.status).toBe(400);
    const days = await control(
      "GET",
      `/_sandbox/beds24/properties/${prop}/rooms/${room}/calendar?start=${day(1)}&end=${day(1)}`,
    );
    expect(days.days[0]).toMatchObject({ num_avail: 3, updated_at: null });

    const mixed = await post(token, [
      { roomId: 9_999_999_999, calendar: [{ from: day(1), to: day(1), numAvail: 0 }] },
      { roomId, calendar: [{ from: day(1), to: day(1), numAvail: 1 }] },
    ]);
    expect(mixed.status).toBe(200);
    expect(mixed.json[0]).toMatchObject({ success: false, errors: [{ field: "roomId" }] });
    expect(mixed.json[1]).toMatchObject({ success: true });
  });
});

describe("Beds24 credits", () => {
  it("every answer carries the credit headers; a calendar POST costs 1 + 0.1 per room", async () => {
    const { token, account } = await beds24Account();
    const { room } = await newRoom(2, "100.00", account);
    const get = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token },
    });
    expectCreditHeaders(get);
    expect(credits(get)).toMatchObject({ cost: 1, remaining: 99 });
    expect(credits(get).resetsIn).toBeGreaterThan(0);
    expect(credits(get).resetsIn).toBeLessThanOrEqual(300);
    const one = await post(token, [
      { roomId: Number(room), calendar: [{ from: day(1), to: day(1), numAvail: 1 }] },
    ]);
    expect(credits(one)).toMatchObject({ cost: 1.1, remaining: 97.9 });
    const two = await post(token, [
      { roomId: Number(room), calendar: [{ from: day(1), to: day(1), numAvail: 1 }] },
      { roomId: Number(room), calendar: [{ from: day(2), to: day(2), numAvail: 1 }] },
    ]);
    expect(credits(two)).toMatchObject({ cost: 1.2, remaining: 96.7 });
    const bad = await post(token, []);
    expect(bad.status).toBe(400);
    expectCreditHeaders(bad);
    // Authentication is free but reports the account's credits.
    const details = await call("GET", "/beds24/authentication/details", { headers: { token } });
    expect(credits(details)).toMatchObject({ cost: 0, remaining: 95.7 });
    expect(
      (await control("GET", `/_sandbox/beds24/accounts/${account}/credits`)).credits,
    ).toMatchObject({ account, limit: 100, spent: 4.3, remaining: 95.7 });
    // Faults carry them too.
    await control("POST", "/_sandbox/beds24/faults", { fail_next: 1, fail_status: 503 });
    const failed = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token },
    });
    expect(failed.status).toBe(503);
    expect(credits(failed)).toMatchObject({ cost: 0, remaining: 95.7 });
  });

  it("with enforce_rate_limit on, the call after 100 credits is 429 with a JSON error and Retry-After", async () => {
    const { token, account } = await beds24Account();
    const other = await beds24Account();
    await control("POST", "/_sandbox/beds24/faults", { enforce_rate_limit: true });
    const statuses: number[] = [];
    let last: Reply | undefined;
    for (let i = 0; i < 101; i++) {
      last = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
        headers: { token },
      });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 100)).toEqual(Array(100).fill(200));
    expect(statuses[100]).toBe(429);
    expect(last!.json).toMatchObject({ success: false, code: 429, error: expect.any(String) });
    expect(credits(last!)).toMatchObject({ cost: 0, remaining: 0 });
    expect(credits(last!).resetsIn).toBeGreaterThan(0);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    const log = (await control("GET", "/_sandbox/beds24/requests?limit=1")).requests;
    expect(log[0]).toMatchObject({ status: 429, fault: "enforced_rate_limit" });

    // Per account: another account still has its 100.
    const elsewhere = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token: other.token },
    });
    expect(elsewhere.status).toBe(200);
    // A POST that does not fit what is left is refused too; clearing the window lets it through.
    await control("DELETE", `/_sandbox/beds24/accounts/${account}/credits`);
    await control("POST", `/_sandbox/beds24/accounts/${account}/credits`, { spend: 99 });
    const { room } = await newRoom(2, "100.00", account);
    const body = [{ roomId: Number(room), calendar: [{ from: day(1), to: day(1), numAvail: 0 }] }];
    expect((await post(token, body)).status).toBe(429);
    await control("DELETE", `/_sandbox/beds24/accounts/${account}/credits`);
    expect((await post(token, body)).status).toBe(200);

    // Without the switch, credits are still counted but nothing is refused.
    await control("DELETE", "/_sandbox/beds24/faults");
    await control("POST", `/_sandbox/beds24/accounts/${account}/credits`, { spend: 200 });
    const over = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token },
    });
    expect(over.status).toBe(200);
    expect(credits(over).remaining).toBe(0);
  });

  it("has the other simulators' switches and logs; reservations are not simulated", async () => {
    const { token } = await beds24Account();
    await control("POST", "/_sandbox/beds24/faults", { rate_limit_next: 1, retry_after: 7 });
    const limited = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    await control("POST", "/_sandbox/beds24/faults", { fail_next: 1, fail_status: 401 });
    const refused = await call("GET", `${CALENDAR}?startDate=${day(1)}&endDate=${day(1)}`, {
      headers: { token },
    });
    expect(refused.status).toBe(401);
    const log = (await control("GET", "/_sandbox/beds24/requests?limit=2")).requests;
    expect(log.map((e: { status: number; fault: string }) => [e.status, e.fault])).toEqual([
      [429, "rate_limit_next"],
      [401, "fail_next"],
    ]);
    const r = await call("POST", "/_sandbox/beds24/reservations", { body: {} });
    expect(r.status).toBe(404);
  });
});
