import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signOtaWebhook } from "../../../src/ingress/signature";
import { eventually, sandbox, SELF_FETCH } from "../../support/fixtures";

/**
 * Drive the admin API, the webhook edge and the consumer with credentials and tokens in play, and
 * scan every response body and every log line for them. Only the one response that issues a token
 * may contain that token.
 */
const logs: string[] = [];
const bodies: Array<{ what: string; text: string }> = [];
const secrets = new Set<string>();

beforeAll(() => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      original(...args);
    });
  }
});
afterAll(() => vi.restoreAllMocks());

async function call(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  issuance = false,
) {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!issuance) bodies.push({ what: `${method} ${path} → ${res.status}`, text });
  return {
    status: res.status,
    json: (text.startsWith("{") ? JSON.parse(text) : {}) as Record<string, any>,
  };
}

describe("no credential or token ever leaves in a response or a log line", () => {
  it("holds across the admin API, the edge and the consumer", async () => {
    secrets.add(env.OPERATOR_TOKEN);
    for (const part of env.CREDENTIALS_KEYS.split(",")) secrets.add(part.split(":")[1]!);
    const listing = "88800001";
    const admin = (
      await call("POST", "/api/v1/tenants", env.OPERATOR_TOKEN, { name: "Leak check" }, true)
    ).json;
    const token: string = admin.token.token;
    secrets.add(token);
    const viewer = (await call("POST", "/api/v1/tokens", token, { name: "viewer" }, true)).json;
    secrets.add(viewer.token);
    const forged = `cm_${"Q".repeat(43)}`;
    secrets.add(forged);

    const property = (
      await call("POST", "/api/v1/properties", token, {
        name: "Leak house",
        time_zone: "Europe/Berlin",
      })
    ).json.id;
    const roomType = (
      await call("POST", `/api/v1/properties/${property}/room-types`, token, {
        name: "House",
        units: 1,
      })
    ).json.id;
    const creds = { client_secret: "SECRET-client-4b1f9e", refresh_token: "SECRET-refresh-77aa01" };
    Object.values(creds).forEach((v) => secrets.add(v));
    const connection = (
      await call("POST", "/api/v1/channel-connections", token, {
        property_id: property,
        platform: "airbnb",
        external_property_id: listing,
        status: "active",
        credentials: creds,
      })
    ).json.id;
    await call("PATCH", `/api/v1/channel-connections/${connection}`, token, {
      credentials: { refresh_token: "SECRET-rotated-90c3d2" },
    });
    secrets.add("SECRET-rotated-90c3d2");
    // Airbnb refuses the (made-up) refresh token, so the mapping is refused: 422, no secret in it.
    const refused = await call("POST", "/api/v1/channel-mappings", token, {
      connection_id: connection,
      mapping_type: "room_type",
      internal_id: roomType,
      external_id: listing,
    });
    expect(refused.status).toBe(422);
    // Map it anyway, as a mapping from before ownership checks would be, so the consumer runs
    // with the wrong token too (the refusal marked the connection expired: active again).
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
           external_id, created_at, updated_at) VALUES (?, ?, ?, 'airbnb', 'room_type', ?, ?, ?, ?)`,
      ).bind(`map_leak_${listing}`, admin.tenant.id, connection, roomType, listing, 1, 1),
      env.DB.prepare(`UPDATE channel_connections SET status = 'active' WHERE id = ?`).bind(
        connection,
      ),
    ]);
    for (const path of [
      "/api/v1/tokens",
      "/api/v1/properties",
      `/api/v1/channel-connections/${connection}`,
      "/api/v1/channel-connections",
      `/api/v1/channel-connections/${connection}/sync-logs`,
      "/api/v1/channel-mappings",
      `/api/v1/properties/${property}/channel-status`,
    ]) {
      expect((await call("GET", path, token)).status).toBe(200);
      await call("GET", path, viewer.token);
    }
    await call("GET", "/api/v1/tokens", forged);
    await call("POST", "/api/v1/tokens", viewer.token, { name: "nope" });
    await call("POST", "/api/v1/tenants", token, { name: "not operator" });

    // A webhook for the mapped listing: the consumer calls the sandbox with the connection's own
    // (wrong) refresh token, fails, and logs the failure.
    await sandbox("PUT", `/_sandbox/airbnb/listings/${listing}`, {});
    const created = await sandbox<{ deliveries: Array<{ body: string }> }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: listing, start_date: "2027-09-01", end_date: "2027-09-03" },
    );
    const raw = created.deliveries[0]!.body;
    const header = await signOtaWebhook(
      env.AIRBNB_WEBHOOK_SECRET,
      Math.floor(Date.now() / 1000),
      raw,
    );
    const res = await SELF_FETCH("http://engine.test/api/v1/webhooks/airbnb", {
      method: "POST",
      headers: { "x-airbnb-signature": header },
      body: raw,
    });
    expect(res.status).toBe(202);
    await eventually(() => Promise.resolve(logs.some((l) => l.includes("inbound.failed"))), {
      what: "the consumer's failure log",
    });

    expect(bodies.length).toBeGreaterThan(15);
    for (const secret of secrets) {
      for (const b of bodies)
        expect(b.text.includes(secret), `${b.what} contains a secret`).toBe(false);
      for (const line of logs)
        expect(line.includes(secret), `log line contains a secret: ${line.slice(0, 120)}`).toBe(
          false,
        );
    }
  });
});
