import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { generateApiToken, hashApiToken, tokenPrefix } from "../../../src/http/tokens";
import { SELF_FETCH, uniqueDigits } from "../../support/fixtures";

/** Rows for the operator routes, written straight to D1 (the consumers' own tests cover how). */

export type Json = Record<string, any>;

export async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: (text ? JSON.parse(text) : null) as Json };
}

/** The call must answer `status`; returns its JSON body. */
export async function expectApi(
  status: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Json> {
  const res = await api(method, path, token, body);
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
  return res.json;
}

/** An API token of the tenant (seedPortfolio inserts tenants directly, without one). */
export async function tokenFor(tenantId: string, role: "admin" | "read_only" = "admin") {
  const token = generateApiToken();
  await env.DB.prepare(
    `INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, token_prefix, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      `tok_${uniqueDigits(10)}`,
      tenantId,
      `${role} for tests`,
      role,
      await hashApiToken(token),
      tokenPrefix(token),
      Date.now(),
    )
    .run();
  return token;
}

export interface EventSeed {
  tenantId: string | null;
  connectionId?: string | null;
  propertyId?: string | null;
  platform?: "airbnb" | "booking_com";
  direction?: "inbound" | "outbound";
  eventType?: string;
  status?: string;
  attempts?: number;
  leaseUntil?: number | null;
  attemptLog?: Array<{ attempt: number; at: number; error: string }>;
  lastError?: string | null;
  outcome?: string | null;
  receivedAt?: number;
  updatedAt?: number;
  /** A webhook_log row (the raw body the event is rebuilt from); default true for webhooks. */
  webhook?: boolean;
  /** The webhook's listing: an unknown one makes a replayed event end `unmapped`, harmlessly. */
  listingId?: string;
}

export interface SeededEvent {
  id: string;
  key: string;
  platformEventId: string;
  payload: string;
}

export const SIGNATURE = "t=1700000000,v1=deadbeefsignature";

export async function seedEvent(s: EventSeed): Promise<SeededEvent> {
  const n = uniqueDigits(12);
  const platform = s.platform ?? "airbnb";
  const platformEventId = `evt_op_${n}`;
  const key = `${platform}:${platformEventId}`;
  const id = `evt_${n}`;
  const now = Date.now();
  const receivedAt = s.receivedAt ?? now;
  const eventType = s.eventType ?? "reservation.created";
  const payload = JSON.stringify({
    event_id: platformEventId,
    event_type: eventType,
    listing_id: s.listingId ?? `9${uniqueDigits(8)}`,
    confirmation_code: `HM${n.slice(-8)}`,
    occurred_at: new Date(receivedAt).toISOString(),
  });
  const statements = [
    env.DB.prepare(
      `INSERT INTO channel_events (id, tenant_id, connection_id, property_id, platform, direction, event_type,
         idempotency_key, entity_external_id, status, attempts, lease_until, last_error, attempt_log, outcome,
         received_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      s.tenantId,
      s.connectionId ?? null,
      s.propertyId ?? null,
      platform,
      s.direction ?? "inbound",
      eventType,
      key,
      platformEventId,
      s.status ?? "failed",
      s.attempts ?? 0,
      s.leaseUntil ?? null,
      s.lastError ?? null,
      JSON.stringify(s.attemptLog ?? []),
      s.outcome ?? null,
      receivedAt,
      s.updatedAt ?? receivedAt,
    ),
  ];
  if (s.webhook ?? true) {
    statements.push(
      env.DB.prepare(
        `INSERT INTO webhook_log (id, platform, event_id, tenant_id, payload, signature, status, received_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'failed', ?, ?)`,
      ).bind(key, platform, platformEventId, s.tenantId, payload, SIGNATURE, receivedAt, now),
    );
  }
  await env.DB.batch(statements);
  return { id, key, platformEventId, payload };
}

export async function seedDeadLetter(s: {
  tenantId: string | null;
  queue?: "inbound" | "outbound";
  connectionId?: string | null;
  platform?: string | null;
  idempotencyKey?: string | null;
  body: unknown;
  createdAt?: number;
  attemptLog?: Array<{ attempt: number; at: number; error: string }>;
}): Promise<string> {
  const id = `dlq_${uniqueDigits(12)}`;
  await env.DB.prepare(
    `INSERT INTO dead_letters (id, queue, message_id, tenant_id, connection_id, platform, idempotency_key, body,
       error, attempts, attempt_log, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      s.queue ?? "inbound",
      `msg-${id}`,
      s.tenantId,
      s.connectionId ?? null,
      s.platform ?? null,
      s.idempotencyKey ?? null,
      JSON.stringify(s.body),
      "HTTP 500 from the platform",
      6,
      JSON.stringify(s.attemptLog ?? []),
      s.createdAt ?? Date.now(),
    )
    .run();
  return id;
}

/** The inbound queue message a seeded webhook event was (its dead letter's body). */
export function webhookMessageOf(e: SeededEvent, platform = "airbnb") {
  return {
    v: 1,
    kind: "webhook",
    platform,
    eventId: e.platformEventId,
    eventType: "reservation.created",
    receivedAt: Date.now(),
    signature: SIGNATURE,
    bodyB64: btoa(e.payload),
  };
}

export async function seedSyncLog(s: {
  tenantId: string;
  connectionId: string;
  direction: "inbound" | "outbound";
  eventKey?: string | null;
  status?: string;
  triggeredAt?: number;
}): Promise<string> {
  const id = `syn_${uniqueDigits(12)}`;
  const at = s.triggeredAt ?? Date.now();
  await env.DB.prepare(
    `INSERT INTO sync_logs (id, tenant_id, connection_id, event_id, sync_type, direction, status, error,
       triggered_at, started_at, finished_at, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      s.tenantId,
      s.connectionId,
      s.eventKey ?? null,
      s.direction === "inbound" ? "booking_import" : "availability_export",
      s.direction,
      s.status ?? "failed",
      "HTTP 500 from the platform",
      at,
      at,
      at + 10,
      10,
    )
    .run();
  return id;
}
