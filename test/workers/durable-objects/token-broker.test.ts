import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../durable-objects/channel-gate";
import { tokenBroker, type TokenBroker } from "../../../durable-objects/token-broker";
import type { MintOutcome, MintRequest, TokenAnswer } from "../../../durable-objects/token-keeper";
import { encryptCredentials } from "../../../src/lib/credentials-crypto";
import type { TokenKey } from "../../../src/platforms/kit/token-cache";
import {
  addDaysUtc,
  sandbox,
  seedPortfolio,
  uniqueDigits,
  type Portfolio,
} from "../../support/fixtures";

/**
 * Tokens of an account several connections share (Booking.com's machine account) are minted and
 * kept by that account's TokenBroker: one mint budget, one mint in flight, one refresh for all.
 * The sandbox's mint budget (30 per rolling hour per client) is the platform's own check.
 */

// Other files mint Booking.com tokens too: start from a clean budget and leave one behind.
beforeAll(() => sandbox("POST", "/_sandbox/reset?platform=booking_com"));
afterAll(() => sandbox("POST", "/_sandbox/reset?platform=booking_com"));
afterEach(() => sandbox("DELETE", "/_sandbox/booking_com/faults"));

const BOOKING: TokenKey = {
  platform: "booking_com",
  baseUrl: env.BOOKING_COM_API_BASE,
  clientId: env.BOOKING_COM_CLIENT_ID,
};
type Stub = DurableObjectStub<ChannelGate>;

interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
}

async function bookingRequests(since: number): Promise<LoggedRequest[]> {
  const log = await sandbox<{ requests: LoggedRequest[] }>(
    "GET",
    "/_sandbox/booking_com/requests?limit=500",
  );
  return log.requests.filter((r) => r.at >= since);
}
const mints = (rs: LoggedRequest[]) =>
  rs.filter((r) => r.method === "POST" && r.path === "/booking_com/oauth/token");

/** Mints whose request left, as recorded by the object that keeps the token (gate or broker). */
function recordedMints(stub: DurableObjectStub<ChannelGate | TokenBroker>): Promise<number> {
  return runInDurableObject(
    stub,
    (_o, state) =>
      state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM token_mints`).one().n,
  );
}

/** The access token is gone (as if expired); evicting a gate drops its in-memory copies too. */
async function forgetAccessTokens(keeper: DurableObjectStub<ChannelGate | TokenBroker>) {
  await runInDurableObject(keeper, (_o, state) => {
    state.storage.sql.exec(`DELETE FROM tokens WHERE name LIKE 'access:%'`);
  });
}

async function seedMany(n: number): Promise<Portfolio[]> {
  const out: Portfolio[] = [];
  while (out.length < n) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(5, n - out.length) }, () => seedPortfolio()),
      )),
    );
  }
  return out;
}

const gateOf = (p: Portfolio): Stub => env.CHANNEL_GATE.getByName(p.booking.connectionId);

function push(p: Portfolio, day: number) {
  const gate = gateOf(p);
  return gate
    .markDirty({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      roomTypeId: p.roomTypeId,
      ranges: [{ start: addDaysUtc(day), end: addDaysUtc(day) }],
      aspects: ["availability"],
      causeKey: `token-broker-${day}`,
      changedAt: Date.now(),
    })
    .then(() => gate.flushNow());
}

function pull(p: Portfolio) {
  return gateOf(p).pullBookings({
    tenantId: p.tenantId,
    connectionId: p.booking.connectionId,
    hint: {
      eventId: `e-${uniqueDigits(6)}`,
      eventType: "reservation.new",
      externalPropertyId: p.booking.hotelId,
    },
  });
}

async function setClock(gate: Stub, at: () => number) {
  await runInDurableObject(gate, (instance: ChannelGate) => {
    instance.clock = at;
  });
}

describe("one token per shared account", () => {
  it(
    "35 Booking.com connections each push and pull: the sandbox mints one token and answers no 429",
    { timeout: 60_000 },
    async () => {
      const portfolios = await seedMany(35);
      const since = Date.now();
      const pushed = await Promise.all(portfolios.map((p) => push(p, 3)));
      const pulled = await Promise.all(portfolios.map((p) => pull(p)));

      expect(pushed.map((s) => s.pendingNights)).toEqual(Array(35).fill(0));
      expect(pulled.filter((r) => !r.ok)).toEqual([]);
      const log = await bookingRequests(since);
      expect(mints(log)).toHaveLength(1);
      expect(log.filter((r) => r.status === 429)).toEqual([]);
      expect(log.filter((r) => r.path.endsWith("/OTA_HotelAvailNotif"))).toHaveLength(35);

      // Every connection's status shows the one shared token's refresh time, the broker's.
      const due = await tokenBroker(env, BOOKING).refreshDueAt();
      expect(due).toBeGreaterThan(Date.now());
      const shown = await Promise.all(
        portfolios.map(async (p) => (await gateOf(p).status()).tokens),
      );
      expect(shown).toEqual(Array(35).fill({ refreshDueAt: due }));
    },
  );

  it("the shared token is stored in the broker, AES-GCM encrypted, and in no gate", async () => {
    const [p] = await seedMany(1);
    expect((await pull(p!)).ok).toBe(true);
    const rows = await runInDurableObject(tokenBroker(env, BOOKING), (_b, state) =>
      state.storage.sql
        .exec<{ name: string; ciphertext: string }>(`SELECT name, ciphertext FROM tokens`)
        .toArray(),
    );
    expect(rows.map((r) => r.name)).toEqual([expect.stringMatching(/^access:/)]);
    for (const row of rows) expect(row.ciphertext).toMatch(/^v1:k2:/);
    const inGate = await runInDurableObject(
      gateOf(p!),
      (_g, state) =>
        state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tokens`).one().n,
    );
    expect(inGate).toBe(0);
  });

  it("gates needing a token at once await one mint in flight", { timeout: 30_000 }, async () => {
    const portfolios = await seedMany(6);
    await forgetAccessTokens(tokenBroker(env, BOOKING));
    // The token endpoint answers slowly, so every gate asks while the first mint is out.
    await sandbox("POST", "/_sandbox/booking_com/faults", { latency_ms: 300 });
    const before = await recordedMints(tokenBroker(env, BOOKING));
    const since = Date.now();
    const pulled = await Promise.all(portfolios.map((p) => pull(p)));
    expect(pulled.filter((r) => !r.ok)).toEqual([]);
    expect(mints(await bookingRequests(since))).toHaveLength(1);
    expect(await recordedMints(tokenBroker(env, BOOKING))).toBe(before + 1);
  });

  it(
    "a 401 with the shared token drops it once: one refresh serves every gate",
    { timeout: 30_000 },
    async () => {
      const portfolios = await seedMany(4);
      await Promise.all(portfolios.map((p) => push(p, 4))); // every gate holds the shared token
      const since = Date.now();
      await sandbox("POST", "/_sandbox/booking_com/faults", { fail_next: 1, fail_status: 401 });
      expect((await push(portfolios[0]!, 5)).pendingNights).toBe(0);
      const dropped = await bookingRequests(since);
      expect(dropped.map((r) => `${r.method} ${r.path.split("/").pop()} ${r.status}`)).toEqual([
        "POST OTA_HotelAvailNotif 401",
        "POST token 200",
        "POST OTA_HotelAvailNotif 200",
      ]);
      // The others are evicted (their in-memory copies gone): they take the new token, no mint.
      for (const p of portfolios.slice(1)) await evictDurableObject(gateOf(p));
      const later = Date.now();
      expect(
        (await Promise.all(portfolios.slice(1).map((p) => push(p, 5)))).map((s) => s.pendingNights),
      ).toEqual([0, 0, 0]);
      expect(mints(await bookingRequests(later))).toEqual([]);
    },
  );
});

describe("a held mint spends no budget", () => {
  async function giveOwnBookingCredentials(p: Portfolio) {
    const { ciphertext, keyId } = await encryptCredentials(
      env,
      { tenantId: p.tenantId, connectionId: p.booking.connectionId },
      { client_id: env.BOOKING_COM_CLIENT_ID, client_secret: env.BOOKING_COM_CLIENT_SECRET },
    );
    await env.DB.prepare(
      `UPDATE channel_connections SET credentials_ciphertext = ?, credentials_key_id = ? WHERE id = ?`,
    )
      .bind(ciphertext, keyId, p.booking.connectionId)
      .run();
  }

  it.each([
    { credentials: "shared (the machine account's broker)", own: false },
    { credentials: "the connection's own (its gate)", own: true },
  ])(
    "31 mints held by the gate's rate limit record nothing; the next one leaves: $credentials",
    { timeout: 60_000 },
    async ({ own }) => {
      const [p] = await seedMany(1);
      if (own) await giveOwnBookingCredentials(p!);
      const gate = gateOf(p!);
      const keeper = own ? gate : tokenBroker(env, BOOKING);
      const t0 = Date.now();
      await setClock(gate, () => t0);
      expect((await pull(p!)).ok).toBe(true);
      // A 429 with Retry-After holds every call of this gate for 10 minutes of its clock.
      await sandbox("POST", "/_sandbox/booking_com/faults", {
        rate_limit_next: 1,
        retry_after: 600,
      });
      expect((await pull(p!)).ok).toBe(false);
      await forgetAccessTokens(keeper);
      await evictDurableObject(gate);
      await setClock(gate, () => t0);

      const recorded = await recordedMints(keeper);
      const since = Date.now();
      for (let i = 0; i < 31; i++) {
        const held = await pull(p!);
        expect(held).toMatchObject({
          ok: false,
          error: { kind: "rate_limited", heldUntil: t0 + 600_000 },
        });
      }
      expect(await recordedMints(keeper)).toBe(recorded);
      expect(mints(await bookingRequests(since))).toEqual([]);

      await setClock(gate, () => t0 + 600_001);
      expect((await pull(p!)).ok).toBe(true);
      expect(await recordedMints(keeper)).toBe(recorded + 1);
      expect(mints(await bookingRequests(since))).toHaveLength(1);
    },
  );
});

describe("the broker itself (fake mints, no platform)", () => {
  const fakeKey = (): TokenKey => ({
    platform: "booking_com",
    baseUrl: `http://fake-${uniqueDigits(8)}.test`,
    clientId: "fake-client",
  });
  const grant = (accessToken: string): MintOutcome => ({
    ok: true,
    grant: { accessToken, expiresInSeconds: 3600 },
  });
  const held: MintOutcome = {
    ok: false,
    sent: false,
    error: { kind: "rate_limited", message: "rate limit reached", retryAfterSeconds: 60 },
  };
  /** The broker's answer (the stub types a union answer as a union of promises). */
  const ask = async (
    broker: DurableObjectStub<TokenBroker>,
    request: MintRequest,
    mint: () => Promise<MintOutcome>,
  ): Promise<TokenAnswer> => (await broker.accessToken(request, mint)) as TokenAnswer;
  const later = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));

  it("ten concurrent callers get the one token one mint produced", async () => {
    const key = fakeKey();
    const broker = tokenBroker(env, key);
    let calls = 0;
    const mint = async () => {
      calls += 1;
      return later(50, grant(`tok-${calls}`));
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(broker, { key }, mint)));
    expect(calls).toBe(1);
    expect(answers.map((a) => a.ok && a.token)).toEqual(Array(10).fill("tok-1"));
    expect(await recordedMints(broker)).toBe(1);
  });

  it("spends the budget only on mints that left, and refuses beyond it with a retry-after", async () => {
    const key = fakeKey();
    const broker = tokenBroker(env, key);
    const request: MintRequest = { key, maxMintsPerHour: 2 };
    for (let i = 0; i < 40; i++) {
      expect(await ask(broker, request, async () => held)).toMatchObject({ ok: false });
    }
    expect(await recordedMints(broker)).toBe(0);
    // Two that left (one answered, one failed after leaving), then the budget is spent.
    const failedAfterLeaving: MintOutcome = {
      ok: false,
      sent: true,
      error: { kind: "transient", message: "timed out" },
    };
    expect(await ask(broker, request, async () => failedAfterLeaving)).toMatchObject({
      ok: false,
    });
    expect(await ask(broker, request, async () => grant("tok-a"))).toMatchObject({
      ok: true,
      token: "tok-a",
    });
    await broker.invalidate(key, "tok-a");
    let asked = false;
    const refused = await ask(broker, request, async () => {
      asked = true;
      return grant("tok-b");
    });
    expect(asked).toBe(false);
    expect(refused).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
    expect(!refused.ok && refused.error.retryAfterSeconds).toBeGreaterThan(3500);
    expect(await recordedMints(broker)).toBe(2);
  });

  it("when the minting caller's gate holds its mint, a caller waiting for it mints instead", async () => {
    const key = fakeKey();
    const broker = tokenBroker(env, key);
    const [first, second] = await Promise.all([
      ask(broker, { key }, () => later(50, held)),
      later(10, null).then(() => ask(broker, { key }, async () => grant("tok-waiter"))),
    ]);
    expect(first).toMatchObject({ ok: false, error: { kind: "rate_limited" } });
    expect(second).toMatchObject({ ok: true, token: "tok-waiter" });
    expect(await recordedMints(broker)).toBe(1);
  });

  it("drops a refused token only while it is still the current one", async () => {
    const key = fakeKey();
    const broker = tokenBroker(env, key);
    let n = 0;
    const mint = async () => grant(`tok-${++n}`);
    expect(await ask(broker, { key }, mint)).toMatchObject({ token: "tok-1" });
    await broker.invalidate(key, "tok-1");
    expect(await ask(broker, { key }, mint)).toMatchObject({ token: "tok-2" });
    await broker.invalidate(key, "tok-1"); // a second gate's 401 with the old token: no effect
    expect(await ask(broker, { key }, mint)).toMatchObject({ token: "tok-2" });
    expect(n).toBe(2);
  });
});
