import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { percentileOffset } from "../../../src/domain/metrics";
import { SELF_FETCH, uniqueDigits } from "../../support/fixtures";
import { seed } from "../../support/seed";

async function call<T = any>(path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A tenant with an admin and a read-only token (seed.tenant expects each 201). */
async function createTenant(name: string) {
  const t = await seed.tenant({ name, readOnly: true });
  return { id: t.tenantId, admin: t.admin, readOnly: t.readOnly };
}

const FROM = Date.UTC(2026, 2, 1);
const TO = FROM + 86_400_000;
const IN = FROM + 3_600_000;

function syncLog(tenantId: string, status: string, at: number) {
  return env.DB.prepare(
    `INSERT INTO sync_logs (id, tenant_id, connection_id, sync_type, direction, status, triggered_at)
     VALUES (?, ?, 'con_m', 'booking_import', 'inbound', ?, ?)`,
  ).bind(`syn_${uniqueDigits(12)}`, tenantId, status, at);
}

function webhook(
  tenantId: string,
  platform: string,
  latencyMs: number,
  at = IN,
  status = "processed",
) {
  const id = `${platform}:evt_${uniqueDigits(12)}`;
  return env.DB.prepare(
    `INSERT INTO webhook_log (id, platform, event_id, tenant_id, payload, status, processed_at, received_at, created_at)
     VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?)`,
  ).bind(id, platform, id, tenantId, status, at + latencyMs, at, at);
}

function deadLetter(tenantId: string, at: number) {
  return env.DB.prepare(
    `INSERT INTO dead_letters (id, queue, message_id, tenant_id, body, attempts, created_at)
     VALUES (?, 'inbound', ?, ?, '{}', 6, ?)`,
  ).bind(`dlq_${uniqueDigits(12)}`, `msg-${uniqueDigits(12)}`, tenantId, at);
}

let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  a = await createTenant("Metrics A");
  b = await createTenant("Metrics B");
  const statements: D1PreparedStatement[] = [];
  // Tenant A in the window: 18 success, 1 failed, 1 deadlettered, 2 retrying, 1 running, 1 triggered.
  const counts: Record<string, number> = {
    success: 18,
    failed: 1,
    deadlettered: 1,
    retrying: 2,
    running: 1,
    triggered: 1,
  };
  for (const [status, n] of Object.entries(counts))
    for (let i = 0; i < n; i++) statements.push(syncLog(a.id, status, IN + i));
  // Outside the window (before and at its exclusive end): not counted.
  statements.push(syncLog(a.id, "failed", FROM - 1), syncLog(a.id, "failed", TO));
  // Airbnb latencies 1..100 ms: p50 = 50, p99 = 99 (nearest rank).
  for (let ms = 1; ms <= 100; ms++) statements.push(webhook(a.id, "airbnb", ms));
  // Booking.com: 3 webhooks, p50 = 200, p99 = 900; a pending one and one outside the window ignored.
  for (const ms of [100, 200, 900]) statements.push(webhook(a.id, "booking_com", ms));
  statements.push(webhook(a.id, "booking_com", 99_999, IN, "pending"));
  statements.push(webhook(a.id, "booking_com", 99_999, TO + 1));
  statements.push(deadLetter(a.id, IN), deadLetter(a.id, TO + 5));

  // Tenant B: lots of failures and slow webhooks, which A must never see (and vice versa).
  for (let i = 0; i < 50; i++) statements.push(syncLog(b.id, "deadlettered", IN + i));
  for (let i = 0; i < 10; i++) statements.push(webhook(b.id, "airbnb", 60_000));
  for (let i = 0; i < 7; i++) statements.push(deadLetter(b.id, IN));
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
});

describe("GET /api/v1/metrics/sync", () => {
  it("gives success rate, dead-letter share and webhook latency p50/p99 per platform", async () => {
    const res = await call(`/api/v1/metrics/sync?from=${FROM}&to=${TO}`, a.readOnly);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      window: { from: FROM, to: TO },
      syncs: {
        total: 24,
        finished: 20,
        by_status: {
          triggered: 1,
          running: 1,
          success: 18,
          failed: 1,
          retrying: 2,
          deadlettered: 1,
        },
        success_rate: 0.9,
      },
      dead_letters: { count: 1, share_of_syncs: Math.round((1 / 24) * 10_000) / 10_000 },
      webhook_latency: [
        { platform: "airbnb", count: 100, p50_ms: 50, p99_ms: 99 },
        { platform: "booking_com", count: 3, p50_ms: 200, p99_ms: 900 },
      ],
      targets: { success_rate_min: 0.95, dead_letter_share_max: 0.01, webhook_p99_ms_max: 2000 },
    });
  });

  it("never counts another tenant's data", async () => {
    const res = await call(`/api/v1/metrics/sync?from=${FROM}&to=${TO}`, b.admin);
    expect(res.status).toBe(200);
    expect(res.body.syncs).toMatchObject({ total: 50, finished: 50, success_rate: 0 });
    expect(res.body.dead_letters).toEqual({ count: 7, share_of_syncs: 0.14 });
    expect(res.body.webhook_latency).toEqual([
      { platform: "airbnb", count: 10, p50_ms: 60_000, p99_ms: 60_000 },
    ]);
  });

  it("defaults to the last 24 hours, and is empty (null ratios) where nothing happened", async () => {
    const res = await call(`/api/v1/metrics/sync`, a.readOnly);
    expect(res.status).toBe(200);
    expect(res.body.window.to - res.body.window.from).toBe(86_400_000);
    expect(Math.abs(res.body.window.to - Date.now())).toBeLessThan(60_000);
    expect(res.body.syncs).toMatchObject({ total: 0, success_rate: null });
    expect(res.body.dead_letters).toEqual({ count: 0, share_of_syncs: null });
    expect(res.body.webhook_latency).toEqual([]);
  });

  it.each<[string, string, boolean, number]>([
    ["a window that ends before it starts", `?from=${TO}&to=${FROM}`, true, 400],
    ["a window bound that is not a number", `?from=soon`, true, 400],
    ["a missing token", ``, false, 401],
  ])("refuses %s", async (_what, query, withToken, status) => {
    const res = await call(`/api/v1/metrics/sync${query}`, withToken ? a.admin : undefined);
    expect(res.status).toBe(status);
  });

  it.each([
    [0.5, 1, 0],
    [0.99, 1, 0],
    [0.5, 4, 1],
    [0.99, 100, 98],
    [0.99, 1000, 989],
  ])("uses nearest-rank percentiles: p%f of %i values is offset %i", (p, n, offset) => {
    expect(percentileOffset(p, n)).toBe(offset);
  });
});
