import { env, exports } from "cloudflare:workers";
import { signOtaWebhook } from "../../src/ingress/signature";
import { encryptCredentials } from "../../src/lib/credentials-crypto";

export const SANDBOX = "http://sandbox.test";

let counter = 0;
/**
 * Distinct numeric ids per call, so tests sharing a D1 file never collide. Never a leading zero:
 * platforms send some of these ids as JSON numbers, which would drop it.
 */
export function uniqueDigits(length: number): string {
  counter += 1;
  const base = `${Date.now()}${counter}${Math.floor(Math.random() * 1e6)}`;
  return base.slice(-length).padStart(length, "1").replace(/^0/, "1");
}

export interface Portfolio {
  tenantId: string;
  propertyId: string;
  roomTypeId: string;
  /** `account`: the sandbox host account that owns the listing; its refresh token is the connection's. */
  airbnb: { connectionId: string; listingId: string; account: string };
  booking: { connectionId: string; hotelId: string; roomId: string; ratePlanId: string };
}

/**
 * A sandbox Airbnb host account of its own, stored as the connection's encrypted credentials:
 * each Airbnb host authorises with its own refresh token, and tests, like production, share none.
 */
export async function giveAirbnbAccount(
  tenantId: string,
  connectionId: string,
): Promise<{ account: string; refreshToken: string }> {
  const { account, refresh_token } = await sandbox<{ account: string; refresh_token: string }>(
    "POST",
    "/_sandbox/airbnb/accounts",
    {},
  );
  const { ciphertext, keyId } = await encryptCredentials(
    env,
    { tenantId, connectionId },
    { refresh_token },
  );
  await env.DB.prepare(
    `UPDATE channel_connections SET credentials_ciphertext = ?, credentials_key_id = ? WHERE id = ?`,
  )
    .bind(ciphertext, keyId, connectionId)
    .run();
  return { account, refreshToken: refresh_token };
}

/**
 * A tenant with one holiday home (1 unit), connected and mapped to both sandbox platforms, with
 * the sandbox side created too: the listing belongs to the connection's own Airbnb host account,
 * the room to the hotel that authorised the (one) Booking.com machine account.
 */
export async function seedPortfolio(
  opts: { units?: number; timeZone?: string; mapped?: boolean } = {},
): Promise<Portfolio> {
  const s = uniqueDigits(8);
  const now = Date.now();
  const p: Portfolio = {
    tenantId: `ten_${s}`,
    propertyId: `prop_${s}`,
    roomTypeId: `rt_${s}`,
    airbnb: { connectionId: `con_ab_${s}`, listingId: uniqueDigits(8), account: "" },
    booking: {
      connectionId: `con_bc_${s}`,
      hotelId: uniqueDigits(7),
      roomId: uniqueDigits(9),
      ratePlanId: uniqueDigits(8),
    },
  };
  const db = env.DB;
  const connection = (id: string, platform: string, external: string) =>
    db
      .prepare(
        `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
           sync_direction, sync_availability, sync_pricing, sync_bookings, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'active', 'bidirectional', 1, 1, 1, ?, ?)`,
      )
      .bind(id, p.tenantId, p.propertyId, platform, external, now, now);
  const mapping = (
    connectionId: string,
    platform: string,
    type: string,
    internal: string,
    external: string,
  ) =>
    db
      .prepare(
        `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        `map_${type}_${connectionId}`,
        p.tenantId,
        connectionId,
        platform,
        type,
        internal,
        external,
        now,
        now,
      );
  await db.batch([
    db
      .prepare(`INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`)
      .bind(p.tenantId, `Agency ${s}`, now),
    db
      .prepare(
        `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
      )
      .bind(p.propertyId, p.tenantId, `Seaside ${s}`, opts.timeZone ?? "Europe/Berlin", now),
    db
      .prepare(
        `INSERT INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at)
         VALUES (?, ?, ?, 'Whole house', ?, 12000, 'EUR', ?)`,
      )
      .bind(p.roomTypeId, p.tenantId, p.propertyId, opts.units ?? 1, now),
    connection(p.airbnb.connectionId, "airbnb", p.airbnb.listingId),
    connection(p.booking.connectionId, "booking_com", p.booking.hotelId),
    db
      .prepare(
        `INSERT INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at)
         VALUES (?, ?, ?, ?, 'Standard', ?)`,
      )
      .bind(`rp_${s}`, p.tenantId, p.propertyId, p.roomTypeId, now),
    // `mapped: false` leaves the mappings to the test (through the API, as a user would).
    ...(opts.mapped === false
      ? []
      : [
          mapping(p.airbnb.connectionId, "airbnb", "room_type", p.roomTypeId, p.airbnb.listingId),
          mapping(
            p.booking.connectionId,
            "booking_com",
            "room_type",
            p.roomTypeId,
            p.booking.roomId,
          ),
          mapping(
            p.booking.connectionId,
            "booking_com",
            "rate_plan",
            `rp_${s}`,
            p.booking.ratePlanId,
          ),
        ]),
  ]);
  p.airbnb.account = (await giveAirbnbAccount(p.tenantId, p.airbnb.connectionId)).account;
  await sandbox("PUT", `/_sandbox/airbnb/listings/${p.airbnb.listingId}`, {
    nightly_price: "120.00",
    currency: "EUR",
    account: p.airbnb.account,
  });
  await sandbox(
    "PUT",
    `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}`,
    {
      units: opts.units ?? 1,
      rate_plan_id: p.booking.ratePlanId,
    },
  );
  return p;
}

export async function sandbox<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${SANDBOX}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export interface Delivery {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** POST a sandbox-produced webhook delivery to the engine under test. */
export function deliver(d: Delivery): Promise<Response> {
  const path = new URL(d.url).pathname;
  return SELF_FETCH(`http://engine.test${path}`, {
    method: d.method,
    headers: d.headers,
    body: d.body,
  });
}

/**
 * The engine's own fetch handler (exports.default), run in this isolate. Imported statically: a
 * dynamic import asks the test runner to resolve a module, which fails if a background task
 * (waitUntil, an alarm) calls this after its test file closed.
 */
export async function SELF_FETCH(url: string, init?: RequestInit): Promise<Response> {
  return engineFetch(new Request(url, init));
}

/** The engine's fetch handler on one request, typed from the main module (no cast). */
export function engineFetch(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

/** Sign and POST an OTA webhook body the way a platform would. */
export async function postWebhook(
  platform: "airbnb" | "booking_com",
  body: unknown,
  opts: { secret?: string; timestamp?: number; header?: string | null; rawBody?: string } = {},
): Promise<Response> {
  const raw = opts.rawBody ?? JSON.stringify(body);
  const secret =
    opts.secret ??
    (platform === "airbnb" ? env.AIRBNB_WEBHOOK_SECRET : env.BOOKING_COM_WEBHOOK_SECRET);
  const t = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headerName = platform === "airbnb" ? "x-airbnb-signature" : "x-booking-signature";
  const header = opts.header === undefined ? await signOtaWebhook(secret, t, raw) : opts.header;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header !== null) headers[headerName] = header;
  return SELF_FETCH(`http://engine.test/api/v1/webhooks/${platform}`, {
    method: "POST",
    headers,
    body: raw,
  });
}

/** Poll until `check` returns a value (real queues deliver asynchronously). */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  { timeoutMs = 8000, intervalMs = 25, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Per-connection gate settings (as `PATCH …/connections/{id}` would store them). */
export async function setGateSettings(connectionId: string, settings: unknown): Promise<void> {
  await env.DB.prepare(`UPDATE channel_connections SET gate_settings = ? WHERE id = ?`)
    .bind(JSON.stringify(settings), connectionId)
    .run();
}

export function addDaysUtc(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
