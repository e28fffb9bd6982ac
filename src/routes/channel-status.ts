import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { gateFor } from "../../durable-objects/channel-gate/client";
import { requireTenantAuth } from "../http/auth";
import { CONNECTION_STATUSES, PLATFORMS, type Platform } from "../store/schema/channels.schema";
import { supportsMappingType } from "../platforms/external-ids";
import { ApiError } from "../http/errors";
import { pullStates } from "../store/pulls";
import { NIGHT_ASPECTS } from "../queue/messages";
import { AUTH_ERRORS, BEARER, createRouter, IdParam, ok, type AppEnv } from "../http/openapi";
import { errorMessage, log } from "../lib/log";

/**
 * GET /api/v1/properties/{id}/channel-status: per live connection of the property, whether it is
 * connected, when it last heard from / pushed to the platform, its failed, queued, unmapped and
 * dead-lettered events, how complete its mappings are, and its ChannelGate's outbound state
 * (pending nights by room type and aspect, why it is blocked, e.g. room types without a mapping,
 * the circuit breaker, the rate limiter and when the platform token is refreshed next).
 *
 * Mounted at /api/v1/properties beside the properties router: it holds only this path and puts
 * auth on the route itself, so nothing here runs for the other router's paths.
 */

/**
 * The properties router on the same prefix authenticates "*" already; this route still carries
 * its own check (it must never depend on a neighbour) but does not look the token up twice.
 */
const tenantAuth = createMiddleware<AppEnv>(async (c, next) =>
  c.var.auth ? next() : requireTenantAuth(c, next),
);

const DAY_MS = 86_400_000;
/** The Durable Object answers from its own SQLite; if it does not within this, report that. */
const GATE_TIMEOUT_MS = 5_000;

const Completeness = z
  .object({
    mapped: z.number().int(),
    total: z.number().int(),
    percent: z
      .number()
      .openapi({ description: "mapped / total × 100, one decimal; 100 when total is 0" }),
  })
  .openapi("MappingCompleteness");

const CircuitState = z.enum(["closed", "open", "half_open"]);

const GateCircuit = z
  .object({
    state: CircuitState,
    consecutive_failures: z.number().int(),
    consecutive_successes: z.number().int(),
    opened_at: z.number().int().nullable().openapi({ description: "When it last opened" }),
    reopens_at: z
      .number()
      .nullable()
      .openapi({ description: "While open: when it lets a probe through (half-open)" }),
    probe_in_flight: z.boolean().openapi({ description: "Half-open: a probe call is out" }),
    opens: z.number().int().openapi({ description: "How many times it has opened" }),
  })
  .openapi("GateCircuitStatus", {
    description: "The gate's circuit breaker: closed lets calls leave, open holds them",
  });

const GateRateLimit = z
  .object({
    capacity: z.number().openapi({ description: "Calls (Beds24: credits) per rolling window" }),
    window_ms: z.number(),
    reserved: z
      .number()
      .int()
      .openapi({ description: "Of the capacity, kept for inbound calls (pushes leave it)" }),
    available: z.number().openapi({ description: "Tokens free now for an inbound call" }),
    blocked_until: z
      .number()
      .nullable()
      .openapi({ description: "No call before this (the platform's Retry-After or a 429)" }),
    quota: z
      .object({ remaining: z.number(), resets_at: z.number() })
      .nullable()
      .openapi({ description: "What the platform last said was left (Beds24 credits)" }),
    calls_in_window: z.number().int(),
  })
  .openapi("GateRateLimitStatus", {
    description:
      "The gate's rolling-window limiter. capacity, window_ms and available are 0 until the " +
      "gate's first flush has loaded the connection's settings.",
  });

const DateRangeSchema = z.object({
  start: z.string().openapi({ example: "2026-12-01" }),
  end: z.string().openapi({ example: "2026-12-03", description: "Inclusive" }),
});

const Outbound = z
  .union([
    z.object({
      pending_nights: z.number().int(),
      blocked_reason: z.string().nullable(),
      last_error: z.string().nullable(),
      consecutive_failures: z.number().int(),
      circuit_state: CircuitState.openapi({ description: "Same as circuit.state (kept)" }),
      last_push_at: z.number().int().nullable(),
      unmapped_room_types: z.array(z.string()).openapi({
        description: "Room types with nights waiting to go out but no room type mapping",
      }),
      circuit: GateCircuit,
      rate_limit: GateRateLimit,
      token_refresh_due_at: z
        .number()
        .nullable()
        .openapi({ description: "When the gate refreshes the platform token next; null: none" }),
      pending: z
        .array(
          z.object({
            room_type_id: z.string(),
            aspect: z.enum(NIGHT_ASPECTS),
            ranges: z.array(DateRangeSchema),
          }),
        )
        .openapi({ description: "Nights waiting to go out, per room type and aspect" }),
    }),
    z.object({ error: z.string() }),
  ])
  .openapi("OutboundStatus", {
    description: "The connection's ChannelGate; {error} if it could not be asked",
  });

const ConnectionStatus = z
  .object({
    connection_id: z.string(),
    platform: z.enum(PLATFORMS),
    status: z.enum(CONNECTION_STATUSES),
    connected: z.boolean().openapi({ description: "status is active" }),
    last_webhook_at: z.number().int().nullable(),
    last_outbound_success_at: z.number().int().nullable(),
    last_error: z.string().nullable(),
    failed_events_24h: z.number().int(),
    mapping_completeness: z.object({
      room_types: Completeness,
      rate_plans: Completeness.nullable().openapi({
        description: "null where the platform has no rate plans (Airbnb, FeWo-direkt/Vrbo, iCal)",
      }),
    }),
    queued_events: z
      .number()
      .int()
      .openapi({ description: "Events received, processing or retrying" }),
    dead_lettered: z.number().int().openapi({ description: "Unresolved dead letters" }),
    unmapped_events: z
      .number()
      .int()
      .openapi({ description: "Events kept as unmapped, imported once mapped" }),
    outbound: Outbound,
    pull: z
      .object({
        last_pull_at: z.number().int().nullable(),
        last_result: z.string().nullable().openapi({
          description: "What the last pull did: nothing to import, what it imported, held, failed",
        }),
        last_duration_ms: z.number().int().nullable(),
        last_change_at: z
          .number()
          .int()
          .nullable()
          .openapi({ description: "The last pull that imported something" }),
        consecutive_failures: z.number().int(),
        next_pull_at: z
          .number()
          .int()
          .openapi({ description: "When the next pull is due (0: at the next minute)" }),
      })
      .nullable()
      .openapi({
        description:
          "Reservation polling of a pull platform (Booking.com); null where the connection is not pulled",
      }),
  })
  .openapi("ChannelConnectionStatus");

const ChannelStatusSchema = z
  .object({
    property: z.object({ id: z.string(), name: z.string() }),
    generated_at: z.number().int(),
    connections: z.array(ConnectionStatus),
  })
  .openapi("PropertyChannelStatus");
type OutboundStatus = z.infer<typeof Outbound>;

interface ConnectionRow {
  id: string;
  platform: Platform;
  status: (typeof CONNECTION_STATUSES)[number];
  last_webhook_at: number | null;
  last_outbound_success_at: number | null;
  last_error: string | null;
}

function completeness(mapped: number, total: number): z.infer<typeof Completeness> {
  const percent = total === 0 ? 100 : Math.round((mapped / total) * 1000) / 10;
  return { mapped, total, percent };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function outboundOf(
  env: Env,
  connectionId: string,
  mappedRoomTypes: ReadonlySet<string>,
): Promise<OutboundStatus> {
  try {
    const s = await withTimeout(gateFor(env, connectionId).status(), GATE_TIMEOUT_MS);
    return {
      pending_nights: s.pendingNights,
      blocked_reason: s.blockedReason,
      last_error: s.lastError,
      consecutive_failures: s.consecutiveFailures,
      circuit_state: s.circuit.state,
      last_push_at: s.lastPushAt,
      unmapped_room_types: [...new Set(s.pending.map((p) => p.roomTypeId))].filter(
        (roomTypeId) => !mappedRoomTypes.has(roomTypeId),
      ),
      circuit: {
        state: s.circuit.state,
        consecutive_failures: s.circuit.consecutiveFailures,
        consecutive_successes: s.circuit.consecutiveSuccesses,
        opened_at: s.circuit.openedAt,
        reopens_at: s.circuit.reopensAt,
        probe_in_flight: s.circuit.probeInFlight,
        opens: s.circuit.opens,
      },
      rate_limit: {
        capacity: s.rateLimit.capacity,
        window_ms: s.rateLimit.windowMs,
        reserved: s.rateLimit.reserved,
        available: s.rateLimit.available,
        blocked_until: s.rateLimit.blockedUntil,
        quota: s.rateLimit.quota
          ? { remaining: s.rateLimit.quota.remaining, resets_at: s.rateLimit.quota.resetsAt }
          : null,
        calls_in_window: s.rateLimit.callsInWindow,
      },
      token_refresh_due_at: s.tokens.refreshDueAt,
      pending: s.pending.map((p) => ({
        room_type_id: p.roomTypeId,
        aspect: p.aspect,
        ranges: p.ranges.map((r) => ({ start: r.start, end: r.end })),
      })),
    };
  } catch (err) {
    log("warn", "channel_status.gate_unavailable", { connectionId, error: errorMessage(err) });
    return { error: `channel gate unavailable: ${errorMessage(err)}` };
  }
}

export const channelStatus = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/channel-status",
    tags: ["Channel status"],
    summary: "Per connection of the property: health, event counts, mapping completeness, outbound",
    security: BEARER,
    middleware: [tenantAuth] as const,
    request: { params: IdParam },
    responses: {
      200: ok("The property's live connections (deleted ones are left out)", ChannelStatusSchema),
      ...AUTH_ERRORS,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.var.auth.tenantId;
    const db = c.env.DB;
    const property = await db
      .prepare(`SELECT id, name FROM properties WHERE id = ? AND tenant_id = ?`)
      .bind(id, tenantId)
      .first<{ id: string; name: string }>();
    if (!property) throw new ApiError(404, "not_found", `property ${id} not found`);

    const now = Date.now();
    const { results: connections } = await db
      .prepare(
        `SELECT id, platform, status, last_webhook_at, last_outbound_success_at, last_error
         FROM channel_connections WHERE property_id = ? AND tenant_id = ? AND deleted_at IS NULL
         ORDER BY created_at, id`,
      )
      .bind(id, tenantId)
      .all<ConnectionRow>();
    if (connections.length === 0) {
      return c.json({ property, generated_at: now, connections: [] }, 200);
    }

    // Connection ids were read under this tenant: the counts below cannot reach another tenant's rows.
    const ids = connections.map((x) => x.id);
    const inList = ids.map(() => "?").join(", ");
    const [totals, events, dead, mappings] = await db.batch([
      db
        .prepare(
          `SELECT (SELECT count(*) FROM room_types WHERE property_id = ?1 AND tenant_id = ?2) AS room_types,
                  (SELECT count(*) FROM rate_plans WHERE property_id = ?1 AND tenant_id = ?2) AS rate_plans`,
        )
        .bind(id, tenantId),
      db
        .prepare(
          `SELECT connection_id,
             sum(CASE WHEN status = 'failed' AND updated_at >= ? THEN 1 ELSE 0 END) AS failed_24h,
             sum(CASE WHEN status IN ('received', 'processing', 'retrying') THEN 1 ELSE 0 END) AS queued,
             sum(CASE WHEN status = 'unmapped' THEN 1 ELSE 0 END) AS unmapped
           FROM channel_events
           WHERE connection_id IN (${inList})
             AND status IN ('failed', 'received', 'processing', 'retrying', 'unmapped')
           GROUP BY connection_id`,
        )
        .bind(now - DAY_MS, ...ids),
      db
        .prepare(
          `SELECT connection_id, count(*) AS n FROM dead_letters
           WHERE connection_id IN (${inList}) AND resolved_at IS NULL GROUP BY connection_id`,
        )
        .bind(...ids),
      // Live, platform-confirmed mappings (what syncs) whose internal id really is one of this
      // property's room types / rate plans.
      db
        .prepare(
          `SELECT m.connection_id, m.mapping_type, m.internal_id FROM channel_mappings m
           WHERE m.connection_id IN (${inList}) AND m.tenant_id = ? AND m.deleted_at IS NULL
             AND m.status = 'confirmed'
             AND ((m.mapping_type = 'room_type' AND m.internal_id IN
                    (SELECT id FROM room_types WHERE property_id = ? AND tenant_id = ?))
               OR (m.mapping_type = 'rate_plan' AND m.internal_id IN
                    (SELECT id FROM rate_plans WHERE property_id = ? AND tenant_id = ?)))`,
        )
        .bind(...ids, tenantId, id, tenantId, id, tenantId),
    ]);
    const total = (totals?.results[0] ?? { room_types: 0, rate_plans: 0 }) as {
      room_types: number;
      rate_plans: number;
    };
    const eventsBy = new Map(
      (
        (events?.results ?? []) as Array<{
          connection_id: string;
          failed_24h: number | null;
          queued: number | null;
          unmapped: number | null;
        }>
      ).map((r) => [r.connection_id, r]),
    );
    const deadBy = new Map(
      ((dead?.results ?? []) as Array<{ connection_id: string; n: number }>).map((r) => [
        r.connection_id,
        r.n,
      ]),
    );
    const mappedRoomTypes = new Map<string, Set<string>>();
    const mappedRatePlans = new Map<string, Set<string>>();
    for (const m of (mappings?.results ?? []) as Array<{
      connection_id: string;
      mapping_type: string;
      internal_id: string;
    }>) {
      const into = m.mapping_type === "room_type" ? mappedRoomTypes : mappedRatePlans;
      const set = into.get(m.connection_id) ?? new Set<string>();
      set.add(m.internal_id);
      into.set(m.connection_id, set);
    }

    const outbound = await Promise.all(
      connections.map((x) => outboundOf(c.env, x.id, mappedRoomTypes.get(x.id) ?? new Set())),
    );
    const pulls = await pullStates(db, tenantId, ids);
    const data = connections.map((x, i) => {
      const ev = eventsBy.get(x.id);
      return {
        connection_id: x.id,
        platform: x.platform,
        status: x.status,
        connected: x.status === "active",
        last_webhook_at: x.last_webhook_at,
        last_outbound_success_at: x.last_outbound_success_at,
        last_error: x.last_error,
        failed_events_24h: ev?.failed_24h ?? 0,
        mapping_completeness: {
          room_types: completeness(mappedRoomTypes.get(x.id)?.size ?? 0, total.room_types),
          rate_plans: supportsMappingType(x.platform, "rate_plan")
            ? completeness(mappedRatePlans.get(x.id)?.size ?? 0, total.rate_plans)
            : null,
        },
        queued_events: ev?.queued ?? 0,
        dead_lettered: deadBy.get(x.id) ?? 0,
        unmapped_events: ev?.unmapped ?? 0,
        outbound: outbound[i] ?? { error: "channel gate not asked" },
        pull: pulls.get(x.id) ?? null,
      };
    });
    return c.json({ property, generated_at: now, connections: data }, 200);
  },
);
