import { z } from "@hono/zod-openapi";
import { NIGHT_ASPECTS } from "../../domain/vocabulary";
import { supportsMappingType } from "../../platforms/external-ids";
import type { PresentedGateStatus } from "../../services/gate-status";
import type { StatusConnection } from "../../store/channel-status";
import type { PullState } from "../../store/pulls";
import { CONNECTION_STATUSES, PLATFORMS } from "../../store/schema/channels.schema";

/** /api/v1/properties/{id}/channel-status: the response schemas and the presenters. */

export const Completeness = z
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

export const Outbound = z
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

export const ChannelStatusSchema = z
  .object({
    property: z.object({ id: z.string(), name: z.string() }),
    generated_at: z.number().int(),
    connections: z.array(ConnectionStatus),
  })
  .openapi("PropertyChannelStatus");
export type OutboundStatus = z.infer<typeof Outbound>;
export type ConnectionStatusBody = z.infer<typeof ConnectionStatus>;

export function completeness(mapped: number, total: number): z.infer<typeof Completeness> {
  const percent = total === 0 ? 100 : Math.round((mapped / total) * 1000) / 10;
  return { mapped, total, percent };
}

/** The gate's answer as `outbound`: its parts this schema documents, and what waits unmapped. */
export function presentOutbound(
  g: PresentedGateStatus,
  mappedRoomTypes: ReadonlySet<string>,
): OutboundStatus {
  return {
    pending_nights: g.pending_nights,
    blocked_reason: g.blocked_reason,
    last_error: g.last_error,
    consecutive_failures: g.consecutive_failures,
    circuit_state: g.circuit_state,
    last_push_at: g.last_push_at,
    unmapped_room_types: [...new Set(g.pending.map((p) => p.room_type_id))].filter(
      (roomTypeId) => !mappedRoomTypes.has(roomTypeId),
    ),
    circuit: g.circuit,
    rate_limit: g.rate_limit,
    token_refresh_due_at: g.token_refresh_due_at,
    pending: g.pending,
  };
}

export interface StatusOf {
  totals: { roomTypes: number; ratePlans: number };
  events?: { failed24h: number; queued: number; unmapped: number } | undefined;
  deadLettered: number;
  mappedRoomTypes: number;
  mappedRatePlans: number;
  outbound: OutboundStatus | undefined;
  pull: PullState | null;
}

/** One live connection's entry, from its row and what the counts and its gate said. */
export function presentConnectionStatus(x: StatusConnection, s: StatusOf): ConnectionStatusBody {
  return {
    connection_id: x.id,
    platform: x.platform,
    status: x.status,
    connected: x.status === "active",
    last_webhook_at: x.lastWebhookAt,
    last_outbound_success_at: x.lastOutboundSuccessAt,
    last_error: x.lastError,
    failed_events_24h: s.events?.failed24h ?? 0,
    mapping_completeness: {
      room_types: completeness(s.mappedRoomTypes, s.totals.roomTypes),
      rate_plans: supportsMappingType(x.platform, "rate_plan")
        ? completeness(s.mappedRatePlans, s.totals.ratePlans)
        : null,
    },
    queued_events: s.events?.queued ?? 0,
    dead_lettered: s.deadLettered,
    unmapped_events: s.events?.unmapped ?? 0,
    outbound: s.outbound ?? { error: "channel gate not asked" },
    pull: s.pull,
  };
}
