import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../durable-objects/channel-gate";
import { tokenBroker } from "../../../durable-objects/token-broker";
import { airbnbAdapter } from "../../../src/platforms/airbnb/adapter";
import type { AdapterContext } from "../../../src/platforms/contract";
import { uniqueDigits } from "../../support/fixtures";

/**
 * The app-level Airbnb refresh token (AIRBNB_REFRESH_TOKEN, for APP_CREDENTIALS_TENANT's
 * connections) is shared by every connection without credentials of its own. Airbnb may rotate
 * it on every use and then refuses the old one; the sandbox never rotates, so this fake token
 * endpoint does, and the real adapter runs in two real gates with their real token stores.
 */

interface FakeAirbnb {
  fetch: typeof fetch;
  /** The refresh tokens sent to the token endpoint, in order. */
  sent: string[];
  /** Make every access token issued so far invalid (the next API call answers 401). */
  revokeAccessTokens(): void;
}

function rotatingAirbnb(): FakeAirbnb {
  let current = "refresh-0";
  let issued = 0;
  let valid = new Set<string>();
  const sent: string[] = [];
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fake = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith("/oauth2/token")) {
      const form = new URLSearchParams(String(init?.body));
      const refresh = form.get("refresh_token") ?? "";
      sent.push(refresh);
      // Rotation: each refresh token works once.
      if (refresh !== current) return json(400, { error: "invalid_grant" });
      issued += 1;
      current = `refresh-${issued}`;
      const access = `access-${issued}`;
      valid.add(access);
      await new Promise((r) => setTimeout(r, 30));
      return json(200, { access_token: access, expires_in: 3600, refresh_token: current });
    }
    const bearer = new Headers(init?.headers).get("authorization")?.replace(/^Bearer /, "");
    if (!bearer || !valid.has(bearer)) return json(401, { error: "unauthorized" });
    const code = url.pathname.split("/").pop();
    return json(200, {
      reservation: {
        confirmation_code: code,
        listing_id: "41000001",
        status: "accepted",
        start_date: "2030-01-10",
        end_date: "2030-01-12",
        updated_at: "2030-01-01T00:00:00Z",
      },
    });
  };
  return {
    fetch: fake as typeof fetch,
    sent,
    revokeAccessTokens: () => {
      valid = new Set();
    },
  };
}

/** Fetch one reservation with the real Airbnb adapter inside a gate, with the app's credentials. */
function fetchThroughGate(gate: DurableObjectStub<ChannelGate>, base: string, fake: FakeAirbnb) {
  return runInDurableObject(gate, async (instance) => {
    const ctx: AdapterContext = {
      baseUrl: base,
      // No `account`: the Worker's own (app-level) credentials, shared by such connections.
      credentials: { clientId: "app", clientSecret: "app-secret", refreshToken: "refresh-0" },
      fetch: fake.fetch,
      now: () => Date.now(),
      tokens: instance.tokens,
    };
    const code = `HM${uniqueDigits(8)}`;
    const pulled = await airbnbAdapter.fetchBookings(ctx, {
      eventId: "e",
      eventType: "reservation.created",
      bookingRef: code,
    });
    return pulled.bookings.map((b) => b.channelBookingId);
  });
}

describe("a shared refresh token that rotates", () => {
  it("is rotated once for all gates: each refresh sends the latest one, none is reused", async () => {
    const base = `http://rotating-${uniqueDigits(8)}.test/airbnb`;
    const fake = rotatingAirbnb();
    const a = env.CHANNEL_GATE.getByName(`rotation-a-${uniqueDigits(8)}`);
    const b = env.CHANNEL_GATE.getByName(`rotation-b-${uniqueDigits(8)}`);

    // Both gates need a token at once: one refresh, and both use what it minted.
    const [fromA, fromB] = await Promise.all([
      fetchThroughGate(a, base, fake),
      fetchThroughGate(b, base, fake),
    ]);
    expect([fromA.length, fromB.length]).toEqual([1, 1]);
    expect(fake.sent).toEqual(["refresh-0"]);

    // The platform revokes the access token: gate b's 401 refreshes with the rotated token, and
    // gate a, whose copy is just as stale, takes the new one instead of refreshing again.
    fake.revokeAccessTokens();
    expect(await fetchThroughGate(b, base, fake)).toHaveLength(1);
    expect(await fetchThroughGate(a, base, fake)).toHaveLength(1);
    expect(fake.sent).toEqual(["refresh-0", "refresh-1"]);

    // The latest refresh token is the broker's, encrypted at rest like the access token.
    const key = { platform: "airbnb" as const, baseUrl: base, clientId: "app" };
    expect(await tokenBroker(env, key).currentRefreshToken(key, "refresh-0")).toBe("refresh-2");
    const rows = await runInDurableObject(tokenBroker(env, key), (_o, state) =>
      state.storage.sql
        .exec<{ name: string; ciphertext: string }>(`SELECT name, ciphertext FROM tokens`)
        .toArray(),
    );
    expect(rows.map((r) => r.name.split(":")[0]).sort()).toEqual(["access", "refresh"]);
    for (const row of rows) expect(row.ciphertext).toMatch(/^v1:k2:/);
  });
});
