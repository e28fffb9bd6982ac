import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  airbnbHost,
  airbnbToken,
  beds24Account,
  call,
  control,
  day,
  resetSandbox,
  uniqueDigits,
} from "./helpers";

/**
 * Accounts and what they may touch: an Airbnb host's token reaches only its listings, a Beds24
 * token sees only its account's properties (Booking.com hotels: booking-authorisation.test.ts).
 */

beforeAll(resetSandbox);

async function listing(account?: string): Promise<string> {
  const id = uniqueDigits(8);
  const r = await control("PUT", `/_sandbox/airbnb/listings/${id}`, {
    nightly_price: "120.00",
    currency: "EUR",
    ...(account ? { account } : {}),
  });
  expect(r.listing).toEqual({
    listing_id: id,
    account: account ?? "default",
    nightly_price: "120.00",
    currency: "EUR",
  });
  return id;
}

const forbidden = (id: string) => ({
  error: "forbidden",
  message: `listing ${id} is not managed by this account`,
});

describe("Airbnb host accounts", () => {
  it("creates an account with its own refresh token; naming it again answers the same token", async () => {
    const made = await call("POST", "/_sandbox/airbnb/accounts", { body: {} });
    expect(made.status).toBe(201);
    expect(made.json).toEqual({
      account: expect.stringMatching(/^acct_[0-9a-f]+$/),
      refresh_token: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const again = await call("POST", "/_sandbox/airbnb/accounts", {
      body: { account: made.json.account },
    });
    expect([again.status, again.json]).toEqual([200, made.json]);
    const named = await call("POST", "/_sandbox/airbnb/accounts", { body: { account: "host-b" } });
    expect([named.status, named.json.account]).toEqual([201, "host-b"]);
    expect(named.json.refresh_token).not.toBe(made.json.refresh_token);
    const configured = await call("POST", "/_sandbox/airbnb/accounts", {
      body: { account: "default" },
    });
    expect([configured.status, configured.json.refresh_token]).toEqual([
      200,
      env.AIRBNB_REFRESH_TOKEN,
    ]);
    const bad = await call("POST", "/_sandbox/airbnb/accounts", { body: { account: "a b" } });
    expect(bad.status).toBe(400);

    // The account's refresh token mints access tokens (and is echoed back); an unknown one is refused.
    const grant = await call("POST", "/airbnb/oauth2/token", {
      body: {
        grant_type: "refresh_token",
        client_id: env.AIRBNB_CLIENT_ID,
        client_secret: env.AIRBNB_CLIENT_SECRET,
        refresh_token: made.json.refresh_token,
      },
    });
    expect([grant.status, grant.json.refresh_token]).toEqual([200, made.json.refresh_token]);
    await expect(airbnbToken("not-a-refresh-token")).rejects.toThrow(/400/);
  });

  it("a host's token reads its own listing (200), another host's (403), an unknown one (404)", async () => {
    const a = await airbnbHost();
    const b = await airbnbHost();
    const id = await listing(a.account);
    const own = await call("GET", `/airbnb/v2/listings/${id}`, { token: a.token });
    expect([own.status, own.json]).toEqual([
      200,
      { listing: { id, account_id: a.account, nightly_price: "120.00", currency: "EUR" } },
    ]);
    const other = await call("GET", `/airbnb/v2/listings/${id}`, { token: b.token });
    expect([other.status, other.json]).toEqual([403, forbidden(id)]);
    const unknown = await call("GET", "/airbnb/v2/listings/99999999997", { token: a.token });
    expect([unknown.status, unknown.json]).toEqual([404, { error: "not_found" }]);

    // Every listing-scoped route refuses the other host the same way, and the log keeps the 403s.
    const range = `start_date=${day(1)}&end_date=${day(2)}`;
    const price = { start_date: day(1), end_date: day(1), nightly_price: "99.00", currency: "EUR" };
    const routes: Array<[string, string, unknown?]> = [
      ["GET", `/airbnb/v2/listings/${id}/reservations`],
      ["GET", `/airbnb/v2/listings/${id}/calendar?${range}`],
      ["PUT", `/airbnb/v2/listings/${id}/pricing`, { operations: [price] }],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(method, path, { token: b.token, ...(body ? { body } : {}) });
      expect([r.status, r.json], `${method} ${path}`).toEqual([403, forbidden(id)]);
    }
    const log = (await control("GET", "/_sandbox/airbnb/requests?limit=1")).requests;
    expect(log[0]).toMatchObject({ method: "PUT", status: 403, fault: null });
  });

  it("a calendar push to another host's listing is 403 and applies nothing", async () => {
    const a = await airbnbHost();
    const b = await airbnbHost();
    const id = await listing(a.account);
    const close = { start_date: day(5), end_date: day(6), availability: "unavailable" };
    const r = await call("PUT", `/airbnb/v2/listings/${id}/calendar`, {
      token: b.token,
      body: { operations: [close] },
    });
    expect([r.status, r.json]).toEqual([403, forbidden(id)]);
    const days = await control(
      "GET",
      `/_sandbox/airbnb/listings/${id}/calendar?start=${day(5)}&end=${day(6)}`,
    );
    expect(days.days.map((d: { available: boolean; updated_at: number | null }) => d)).toEqual([
      expect.objectContaining({ available: true, updated_at: null }),
      expect.objectContaining({ available: true, updated_at: null }),
    ]);
    const own = await call("PUT", `/airbnb/v2/listings/${id}/calendar`, {
      token: a.token,
      body: { operations: [close] },
    });
    expect([own.status, own.json]).toEqual([200, { updated_days: 2 }]);
  });

  it("a reservation of another host's listing is 403; its own host reads it", async () => {
    const a = await airbnbHost();
    const b = await airbnbHost();
    const id = await listing(a.account);
    const { reservation } = await control("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: id,
      start_date: day(10),
      end_date: day(12),
    });
    const code = reservation.confirmation_code as string;
    const other = await call("GET", `/airbnb/v2/reservations/${code}`, { token: b.token });
    expect([other.status, other.json]).toEqual([
      403,
      { error: "forbidden", message: `reservation ${code} is not managed by this account` },
    ]);
    const own = await call("GET", `/airbnb/v2/reservations/${code}`, { token: a.token });
    expect([own.status, own.json]).toEqual([200, { reservation }]);
    const unknown = await call("GET", "/airbnb/v2/reservations/HMNOTHERE2", { token: a.token });
    expect(unknown.status).toBe(404);
  });

  it("a host transfer moves the listing to the named account; an unknown account is 404", async () => {
    const a = await airbnbHost();
    const b = await airbnbHost();
    const id = await listing(a.account);
    const moved = await control("PUT", `/_sandbox/airbnb/listings/${id}`, { account: b.account });
    expect(moved.listing).toMatchObject({
      listing_id: id,
      account: b.account,
      nightly_price: "120.00",
    });
    const before = await call("GET", `/airbnb/v2/listings/${id}`, { token: a.token });
    expect(before.status).toBe(403);
    const after = await call("GET", `/airbnb/v2/listings/${id}`, { token: b.token });
    expect([after.status, after.json.listing.account_id]).toEqual([200, b.account]);
    // An update without `account` keeps the host.
    const priced = await control("PUT", `/_sandbox/airbnb/listings/${id}`, {
      nightly_price: "130",
    });
    expect(priced.listing.account).toBe(b.account);

    const nobody = await call("PUT", `/_sandbox/airbnb/listings/${id}`, {
      body: { account: "nobody" },
    });
    expect([nobody.status, nobody.json.error]).toEqual([404, "not_found"]);
    // Listings created without an account are the configured token's.
    const plain = await listing();
    const mine = await call("GET", `/airbnb/v2/listings/${plain}`, { token: await airbnbToken() });
    expect([mine.status, mine.json.listing.account_id]).toEqual([200, "default"]);
  });
});

describe("Beds24 property ownership", () => {
  const props = (token: string, query = "") =>
    call("GET", `/beds24/properties${query}`, { headers: { token } });

  async function property(account: string, rooms: number[]) {
    const prop = `4${uniqueDigits(5)}`;
    const ids = rooms.map(() => `7${uniqueDigits(7)}`);
    for (const [i, room] of ids.entries()) {
      const r = await control("PUT", `/_sandbox/beds24/properties/${prop}/rooms/${room}`, {
        account,
        units: rooms[i],
      });
      expect(r.room.account).toBe(account);
    }
    return { prop, rooms: ids };
  }

  it("lists only the token's account's properties; another account's is absent", async () => {
    const a = await beds24Account();
    const b = await beds24Account();
    const mine = await property(a.account, [2, 1]);
    const theirs = await property(b.account, [1]);
    const all = await props(a.token, "?includeAllRooms=true");
    expect(all.status).toBe(200);
    expect(all.headers.get("x-request-cost")).toBe("1");
    expect(all.json).toEqual({
      success: true,
      type: "property",
      count: 1,
      pages: { nextPageExists: false, nextPageLink: null },
      data: [
        {
          id: Number(mine.prop),
          name: `Property ${mine.prop}`,
          roomTypes: mine.rooms
            .map((id, i) => ({ id: Number(id), name: `Room ${id}`, qty: [2, 1][i] }))
            .sort((x, y) => x.id - y.id),
        },
      ],
    });
    const named = await props(a.token, `?id=${mine.prop}`);
    expect(named.json.data).toEqual([{ id: Number(mine.prop), name: `Property ${mine.prop}` }]);
    for (const query of [`?id=${theirs.prop}&includeAllRooms=true`, "?id=999999"]) {
      const r = await props(a.token, query);
      expect([r.status, r.json.count, r.json.data], query).toEqual([200, 0, []]);
    }
    expect((await props(b.token, `?id=${mine.prop}&id=${theirs.prop}`)).json.data).toEqual([
      { id: Number(theirs.prop), name: `Property ${theirs.prop}` },
    ]);
    expect((await props(a.token, "?id=abc")).status).toBe(400);
    expect((await props("not-a-token")).status).toBe(401);
  });

  it("a property cannot be split across accounts (409)", async () => {
    const a = await beds24Account();
    const b = await beds24Account();
    const { prop } = await property(a.account, [1]);
    const split = await call(
      "PUT",
      `/_sandbox/beds24/properties/${prop}/rooms/7${uniqueDigits(7)}`,
      {
        body: { account: b.account },
      },
    );
    expect([split.status, split.json.error]).toEqual([409, "conflict"]);
    // Without `account` a new room joins the property's account.
    const joined = await control(
      "PUT",
      `/_sandbox/beds24/properties/${prop}/rooms/7${uniqueDigits(7)}`,
      {},
    );
    expect(joined.room.account).toBe(a.account);
  });

  it("a calendar write to another account's room fails that item only; reads leave it out", async () => {
    const a = await beds24Account();
    const b = await beds24Account();
    const mine = await property(a.account, [2]);
    const theirs = await property(b.account, [2]);
    const entry = [{ from: day(1), to: day(1), numAvail: 0 }];
    const w = await call("POST", "/beds24/inventory/rooms/calendar", {
      headers: { token: a.token },
      body: [
        { roomId: Number(theirs.rooms[0]), calendar: entry },
        { roomId: Number(mine.rooms[0]), calendar: entry },
      ],
    });
    expect(w.status).toBe(200);
    expect(w.json[0]).toEqual({
      success: false,
      errors: [{ field: "roomId", message: `room ${theirs.rooms[0]} not found` }],
    });
    expect(w.json[1]).toMatchObject({ success: true });
    const untouched = await control(
      "GET",
      `/_sandbox/beds24/properties/${theirs.prop}/rooms/${theirs.rooms[0]}/calendar?start=${day(1)}&end=${day(1)}`,
    );
    expect(untouched.days[0]).toMatchObject({ num_avail: 2, updated_at: null });

    const range = `startDate=${day(1)}&endDate=${day(1)}&includeNumAvail=true`;
    const read = async (query: string) =>
      (
        await call("GET", `/beds24/inventory/rooms/calendar?${range}${query}`, {
          headers: { token: a.token },
        })
      ).json.data.map((r: { roomId: number }) => r.roomId);
    expect(await read(`&roomId=${theirs.rooms[0]}&roomId=${mine.rooms[0]}`)).toEqual([
      Number(mine.rooms[0]),
    ]);
    expect(await read("")).toEqual([Number(mine.rooms[0])]);
  });
});
