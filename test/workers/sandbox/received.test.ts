import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  airbnbToken,
  beds24Account,
  call,
  control,
  day,
  resetSandbox,
  uniqueDigits,
} from "./helpers";

/**
 * Every body a client sends is kept until reset, however it was answered (a fault, a 401, a
 * validation error), with its status and the fault that answered, and can be paged through.
 */

beforeAll(resetSandbox);
afterEach(async () => {
  await control("DELETE", "/_sandbox/airbnb/faults");
  await control("DELETE", "/_sandbox/beds24/faults");
});

interface Received {
  id: number;
  at: number;
  method: string;
  path: string;
  content_type: string | null;
  body: string;
  status: number;
  fault: string | null;
  idempotency_key: string | null;
}

const received = async (platform: string, query = ""): Promise<Received[]> =>
  (await control("GET", `/_sandbox/${platform}/received${query}`)).received;

/** Every entry, page by page (`after` = the last id seen). */
async function everything(platform: string, limit: number): Promise<Received[]> {
  const all: Received[] = [];
  for (let after = 0; ;) {
    const page = await received(platform, `?after=${after}&limit=${limit}`);
    all.push(...page);
    if (page.length < limit) return all;
    after = page.at(-1)!.id;
  }
}

async function listing(): Promise<string> {
  const id = uniqueDigits(8);
  await control("PUT", `/_sandbox/airbnb/listings/${id}`, { nightly_price: "80.00" });
  return id;
}

describe("received bodies", () => {
  it("keeps the body of a call answered by an injected fault or a 401, with its status and fault", async () => {
    const id = await listing();
    const token = await airbnbToken();
    const path = `/airbnb/v2/listings/${id}/calendar`;
    const ops = (n: number) => ({
      operations: [{ start_date: day(n), end_date: day(n), availability: "unavailable" }],
    });
    await control("POST", "/_sandbox/airbnb/faults", { fail_next: 1, fail_status: 503 });
    const faulted = await call("PUT", path, {
      token,
      body: ops(1),
      headers: { "idempotency-key": "k-faulted" },
    });
    expect(faulted.status).toBe(503);
    expect((await call("PUT", path, { body: ops(2) })).status).toBe(401);
    expect((await call("PUT", path, { token, raw: "{nope" })).status).toBe(400);
    expect((await call("PUT", path, { token, body: ops(3) })).status).toBe(200);

    const last = await received("airbnb", "?limit=4");
    expect(last).toEqual([
      expect.objectContaining({
        method: "PUT",
        path,
        content_type: "application/json",
        body: JSON.stringify(ops(1)),
        status: 503,
        fault: "fail_next",
        idempotency_key: "k-faulted",
      }),
      expect.objectContaining({ body: JSON.stringify(ops(2)), status: 401, fault: null }),
      expect.objectContaining({ body: "{nope", status: 400, fault: null, idempotency_key: null }),
      expect.objectContaining({ body: JSON.stringify(ops(3)), status: 200, fault: null }),
    ]);
    const ids = last.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // A faulted call never reaches the handler: the calendar shows only the last write.
    const days = await control(
      "GET",
      `/_sandbox/airbnb/listings/${id}/calendar?start=${day(1)}&end=${day(3)}`,
    );
    expect(days.days.map((d: { available: boolean }) => d.available)).toEqual([true, true, false]);
  });

  it("keeps OAuth token requests and Beds24 calls refused by a fault, each exactly once", async () => {
    await airbnbToken();
    const [grant] = await received("airbnb", "?limit=1");
    expect(grant).toMatchObject({
      method: "POST",
      path: "/airbnb/oauth2/token",
      content_type: "application/x-www-form-urlencoded",
      status: 200,
      fault: null,
    });
    expect(new URLSearchParams(grant!.body).get("refresh_token")).toBe(env.AIRBNB_REFRESH_TOKEN);

    const { token } = await beds24Account();
    await control("POST", "/_sandbox/beds24/faults", { rate_limit_next: 1 });
    const body = [{ roomId: 1, calendar: [{ from: day(1), to: day(1), numAvail: 0 }] }];
    const r = await call("POST", "/beds24/inventory/rooms/calendar", { headers: { token }, body });
    expect(r.status).toBe(429);
    const beds24 = await everything("beds24", 1000);
    expect(beds24.filter((x) => x.body === JSON.stringify(body))).toEqual([
      expect.objectContaining({ status: 429, fault: "rate_limit_next" }),
    ]);
    // Bodiless GETs (the invite-code setup) are not kept.
    expect(beds24.map((x) => x.method)).toEqual(["POST"]);
  });

  it("keeps more than 200 until reset and pages through them with after and limit", async () => {
    await control("POST", "/_sandbox/reset?platform=airbnb");
    const total = 230;
    for (let i = 0; i < total; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          call("PUT", "/airbnb/v2/listings/1/calendar", { body: { n: i + j } }),
        ),
      );
    }
    const all = await everything("airbnb", 100);
    expect(all).toHaveLength(total);
    expect(new Set(all.map((r) => JSON.parse(r.body).n)).size).toBe(total);
    const ids = all.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all.every((r) => r.status === 401)).toBe(true);

    const page = await received("airbnb", `?after=${ids[9]}&limit=5`);
    expect(page.map((r) => r.id)).toEqual(ids.slice(10, 15));
    // Without `after`: the newest `limit`, oldest first (default 200, at most 1000).
    expect((await received("airbnb", "?limit=3")).map((r) => r.id)).toEqual(ids.slice(-3));
    expect(await received("airbnb")).toHaveLength(200);
    expect(await received("airbnb", "?after=0&limit=5000")).toHaveLength(total);
    expect(await received("airbnb", `?after=${ids.at(-1)}`)).toEqual([]);
    const bad = await call("GET", "/_sandbox/airbnb/received?after=x");
    expect(bad.status).toBe(400);

    await control("POST", "/_sandbox/reset?platform=airbnb");
    expect(await received("airbnb", "?after=0")).toEqual([]);
  });
});
