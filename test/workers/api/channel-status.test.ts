import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { addDaysUtc, SELF_FETCH, uniqueDigits } from "../../support/fixtures";

async function call<T = any>(path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Completeness {
  mapped: number;
  total: number;
  percent: number;
}
interface ConnectionStatus {
  connection_id: string;
  platform: string;
  status: string;
  connected: boolean;
  last_webhook_at: number | null;
  last_outbound_success_at: number | null;
  last_error: string | null;
  failed_events_24h: number;
  mapping_completeness: { room_types: Completeness; rate_plans: Completeness | null };
  queued_events: number;
  dead_lettered: number;
  unmapped_events: number;
  outbound:
    | {
        pending_nights: number;
        blocked_reason: string | null;
        last_error: string | null;
        consecutive_failures: number;
        circuit_state: string;
        last_push_at: number | null;
        unmapped_room_types: string[];
        circuit: {
          state: string;
          consecutive_failures: number;
          consecutive_successes: number;
          opened_at: number | null;
          reopens_at: number | null;
          probe_in_flight: boolean;
          opens: number;
        };
        rate_limit: {
          capacity: number;
          window_ms: number;
          reserved: number;
          available: number;
          blocked_until: number | null;
          quota: { remaining: number; resets_at: number } | null;
          calls_in_window: number;
        };
        token_refresh_due_at: number | null;
        pending: Array<{
          room_type_id: string;
          aspect: string;
          ranges: Array<{ start: string; end: string }>;
        }>;
      }
    | { error: string };
}
interface StatusBody {
  property: { id: string; name: string };
  generated_at: number;
  connections: ConnectionStatus[];
}

async function createTenant(name: string) {
  const res = await SELF_FETCH("http://engine.test/api/v1/tenants", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer test-operator-token" },
    body: JSON.stringify({ name }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { tenant: { id: string }; token: { token: string } };
  const ro = await SELF_FETCH("http://engine.test/api/v1/tokens", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${body.token.token}` },
    body: JSON.stringify({ name: "viewer" }),
  });
  const readOnly = ((await ro.json()) as { token: string }).token;
  return { id: body.tenant.id, admin: body.token.token, readOnly };
}

const HOUR = 3_600_000;
const db = () => env.DB;

function insertConnection(
  id: string,
  tenantId: string,
  propertyId: string,
  platform: string,
  status: string,
  extra: { lastWebhookAt?: number; lastOutboundAt?: number; deletedAt?: number } = {},
) {
  const now = Date.now();
  return db()
    .prepare(
      `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
         last_webhook_at, last_outbound_success_at, created_at, updated_at, deleted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      id,
      tenantId,
      propertyId,
      platform,
      uniqueDigits(9),
      status,
      extra.lastWebhookAt ?? null,
      extra.lastOutboundAt ?? null,
      now,
      now,
      extra.deletedAt ?? null,
    );
}

function insertMapping(
  tenantId: string,
  connectionId: string,
  platform: string,
  type: string,
  internalId: string,
  deletedAt: number | null = null,
) {
  const now = Date.now();
  return db()
    .prepare(
      `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id,
         created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      `map_${uniqueDigits(12)}`,
      tenantId,
      connectionId,
      platform,
      type,
      internalId,
      uniqueDigits(9),
      now,
      now,
      deletedAt,
    );
}

function insertEvent(
  tenantId: string,
  connectionId: string,
  platform: string,
  status: string,
  updatedAt = Date.now(),
) {
  return db()
    .prepare(
      `INSERT INTO channel_events (id, tenant_id, connection_id, platform, direction, event_type,
         idempotency_key, status, received_at, updated_at)
       VALUES (?, ?, ?, ?, 'inbound', 'reservation.created', ?, ?, ?, ?)`,
    )
    .bind(
      `evt_${uniqueDigits(12)}`,
      tenantId,
      connectionId,
      platform,
      `test:${crypto.randomUUID()}`,
      status,
      updatedAt,
      updatedAt,
    );
}

function insertDeadLetter(tenantId: string, connectionId: string, resolvedAt: number | null) {
  return db()
    .prepare(
      `INSERT INTO dead_letters (id, queue, message_id, tenant_id, connection_id, platform, body, attempts,
         created_at, resolved_at) VALUES (?, 'inbound', ?, ?, ?, 'booking_com', '{}', 5, ?, ?)`,
    )
    .bind(
      `dl_${uniqueDigits(12)}`,
      crypto.randomUUID(),
      tenantId,
      connectionId,
      Date.now(),
      resolvedAt,
    );
}

let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;
const s = uniqueDigits(8);
const propertyId = `prop_st${s}`;
const rt = [`rt_st${s}a`, `rt_st${s}b`] as const;
const rp = [`rp_st${s}a`, `rp_st${s}b`] as const;
const booking = `con_bc${s}`;
const airbnb = `con_ab${s}`;
const expediaDeleted = `con_ex${s}`;
const emptyProperty = `prop_em${s}`;
const webhookAt = Date.now() - 2 * HOUR;
const ranges = [{ start: addDaysUtc(10), end: addDaysUtc(11) }];
/** A fresh gate's breaker: closed, never opened. */
const freshCircuit = {
  state: "closed",
  consecutive_failures: 0,
  consecutive_successes: 0,
  opened_at: null,
  reopens_at: null,
  probe_in_flight: false,
  opens: 0,
};
const outboundAt = Date.now() - HOUR;

beforeAll(async () => {
  a = await createTenant("Status A");
  b = await createTenant("Status B");
  const now = Date.now();
  const t = a.id;
  await db().batch([
    db()
      .prepare(
        `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, ?, 'Europe/Berlin', ?), (?, ?, ?, 'Europe/Berlin', ?)`,
      )
      .bind(propertyId, t, "Harbour House", now, emptyProperty, t, "Empty", now),
    ...rt.map((id, i) =>
      db()
        .prepare(
          `INSERT INTO room_types (id, tenant_id, property_id, name, units, created_at) VALUES (?, ?, ?, ?, 1, ?)`,
        )
        .bind(id, t, propertyId, `Room ${i}`, now),
    ),
    ...rp.map((id, i) =>
      db()
        .prepare(
          `INSERT INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .bind(id, t, propertyId, rt[i], `Rate ${i}`, now),
    ),
    insertConnection(booking, t, propertyId, "booking_com", "active", {
      lastWebhookAt: webhookAt,
      lastOutboundAt: outboundAt,
    }),
    insertConnection(airbnb, t, propertyId, "airbnb", "paused"),
    insertConnection(expediaDeleted, t, propertyId, "expedia", "active", { deletedAt: now }),
    // Booking.com: room 0 and rate plan 0 mapped; room 1 only through a deleted mapping.
    insertMapping(t, booking, "booking_com", "room_type", rt[0]),
    insertMapping(t, booking, "booking_com", "rate_plan", rp[0]),
    insertMapping(t, booking, "booking_com", "room_type", rt[1], now - HOUR),
    insertMapping(t, booking, "booking_com", "property", propertyId),
    // Airbnb: both listings mapped.
    insertMapping(t, airbnb, "airbnb", "room_type", rt[0]),
    insertMapping(t, airbnb, "airbnb", "room_type", rt[1]),
    // Events: 2 failed in the last 24 h (+1 older), 3 queued, 2 unmapped, 1 done.
    insertEvent(t, booking, "booking_com", "failed"),
    insertEvent(t, booking, "booking_com", "failed", now - 3 * HOUR),
    insertEvent(t, booking, "booking_com", "failed", now - 30 * HOUR),
    insertEvent(t, booking, "booking_com", "received"),
    insertEvent(t, booking, "booking_com", "processing"),
    insertEvent(t, booking, "booking_com", "retrying"),
    insertEvent(t, booking, "booking_com", "unmapped"),
    insertEvent(t, booking, "booking_com", "unmapped"),
    insertEvent(t, booking, "booking_com", "done"),
    insertEvent(t, airbnb, "airbnb", "failed"),
    insertEvent(t, expediaDeleted, "expedia", "failed"),
    insertDeadLetter(t, booking, null),
    insertDeadLetter(t, booking, null),
    insertDeadLetter(t, booking, now),
  ]);

  // Outbound: nights of the unmapped room type wait at the Booking.com gate (and are reported,
  // not dropped); the paused Airbnb connection's gate holds its nights too. Each flush loads the
  // connection's gate settings, so the rate limit below is the platform's.
  const bookingGate = env.CHANNEL_GATE.getByName(booking);
  await bookingGate.markDirty({
    tenantId: t,
    connectionId: booking,
    roomTypeId: rt[1],
    ranges,
    causeKey: "test",
    changedAt: now,
  });
  await bookingGate.flushNow();
  const airbnbGate = env.CHANNEL_GATE.getByName(airbnb);
  await airbnbGate.markDirty({
    tenantId: t,
    connectionId: airbnb,
    roomTypeId: rt[0],
    ranges,
    causeKey: "test",
    changedAt: now,
  });
  await airbnbGate.flushNow();
});

const path = (id: string) => `/api/v1/properties/${id}/channel-status`;

describe("GET /api/v1/properties/{id}/channel-status", () => {
  it("reports each live connection's health, counts, completeness and outbound state", async () => {
    const res = await call<StatusBody>(path(propertyId), a.readOnly);
    expect(res.status).toBe(200);
    expect(res.body.property).toEqual({ id: propertyId, name: "Harbour House" });
    const byId = new Map(res.body.connections.map((x) => [x.connection_id, x]));
    expect([...byId.keys()].sort()).toEqual([airbnb, booking].sort());

    expect(byId.get(booking)).toEqual({
      connection_id: booking,
      platform: "booking_com",
      status: "active",
      connected: true,
      last_webhook_at: webhookAt,
      last_outbound_success_at: outboundAt,
      last_error: null,
      failed_events_24h: 2,
      mapping_completeness: {
        room_types: { mapped: 1, total: 2, percent: 50 },
        rate_plans: { mapped: 1, total: 2, percent: 50 },
      },
      queued_events: 3,
      dead_lettered: 2,
      unmapped_events: 2,
      outbound: {
        pending_nights: 2,
        blocked_reason: `room types without a mapping: ${rt[1]}`,
        last_error: null,
        consecutive_failures: 0,
        circuit_state: "closed",
        last_push_at: null,
        unmapped_room_types: [rt[1]],
        circuit: freshCircuit,
        // Booking.com: 20 calls per rolling 60 s, 10 % (2) kept for inbound calls; nothing spent.
        rate_limit: {
          capacity: 20,
          window_ms: 60_000,
          reserved: 2,
          available: 20,
          blocked_until: null,
          quota: null,
          calls_in_window: 0,
        },
        token_refresh_due_at: null,
        pending: [
          { room_type_id: rt[1], aspect: "availability", ranges },
          { room_type_id: rt[1], aspect: "price", ranges },
        ],
      },
      // Not pulled yet in this test: no pull row.
      pull: null,
    });

    const ab = byId.get(airbnb)!;
    expect(ab).toMatchObject({
      platform: "airbnb",
      status: "paused",
      connected: false,
      last_webhook_at: null,
      failed_events_24h: 1,
      queued_events: 0,
      dead_lettered: 0,
      unmapped_events: 0,
      // Airbnb has no rate plans: not "0 % mapped".
      mapping_completeness: { room_types: { mapped: 2, total: 2, percent: 100 }, rate_plans: null },
    });
    expect(ab.outbound).toMatchObject({
      pending_nights: 2,
      unmapped_room_types: [],
      circuit_state: "closed",
      circuit: freshCircuit,
      // Airbnb: 10 calls per second, 1 kept for inbound calls.
      rate_limit: {
        capacity: 10,
        window_ms: 1_000,
        reserved: 1,
        available: 10,
        blocked_until: null,
        quota: null,
        calls_in_window: 0,
      },
      token_refresh_due_at: null,
      pending: [
        { room_type_id: rt[0], aspect: "availability", ranges },
        { room_type_id: rt[0], aspect: "price", ranges },
      ],
    });
    expect("blocked_reason" in ab.outbound && ab.outbound.blocked_reason).toContain("paused");
  });

  it("documents the gate's circuit, rate limit, token refresh and pending nights", async () => {
    const doc = (await call<{ components: { schemas: Record<string, any> } }>("/openapi.json"))
      .body;
    const outbound = doc.components.schemas.OutboundStatus as {
      anyOf: Array<{ properties?: Record<string, unknown> }>;
    };
    const gate = outbound.anyOf.find((s) => s.properties?.pending_nights);
    expect(Object.keys(gate?.properties ?? {})).toEqual(
      expect.arrayContaining([
        "circuit_state",
        "circuit",
        "rate_limit",
        "token_refresh_due_at",
        "pending",
      ]),
    );
    expect(Object.keys(doc.components.schemas.GateCircuitStatus?.properties ?? {}).sort()).toEqual([
      "consecutive_failures",
      "consecutive_successes",
      "opened_at",
      "opens",
      "probe_in_flight",
      "reopens_at",
      "state",
    ]);
    expect(
      Object.keys(doc.components.schemas.GateRateLimitStatus?.properties ?? {}).sort(),
    ).toEqual([
      "available",
      "blocked_until",
      "calls_in_window",
      "capacity",
      "quota",
      "reserved",
      "window_ms",
    ]);
  });

  it("answers an empty list for a property without connections", async () => {
    const res = await call<StatusBody>(path(emptyProperty), a.admin);
    expect(res.status).toBe(200);
    expect(res.body.connections).toEqual([]);
  });

  it("answers 404 for another tenant's property and for unknown ones, 400 for a bad id", async () => {
    const cross = await call<{ error: { code: string } }>(path(propertyId), b.admin);
    expect(cross.status).toBe(404);
    expect(cross.body.error.code).toBe("not_found");
    expect(JSON.stringify(cross.body)).not.toContain(booking);
    expect((await call(path(propertyId), b.readOnly)).status).toBe(404);
    expect((await call(path("prop_nothere"), a.admin)).status).toBe(404);
    expect((await call(path("not-an-id"), a.admin)).status).toBe(400);
  });

  it("answers 401 without a token or with an unknown one", async () => {
    expect((await call(path(propertyId))).status).toBe(401);
    expect((await call(path(propertyId), `cm_${"z".repeat(43)}`)).status).toBe(401);
    const malformed = await SELF_FETCH(`http://engine.test${path(propertyId)}`, {
      headers: { authorization: "Basic abc" },
    });
    expect(malformed.status).toBe(401);
  });
});
