import { z } from "zod";
import { DEFAULT_BREAKER, type BreakerConfig } from "./circuit-breaker";
import type { RateLimit } from "./rate-limiter";

/**
 * How a ChannelGate paces one connection: the platform's published limit (seed 002 §8.1, seed 003,
 * PROTOCOLS.md), the breaker thresholds (seed 002 §8.2) and the coalescing window, each
 * overridable per connection (channel_connections.gate_settings, set through the connections API).
 */

/** A platform's published limit: calls per rolling window (Beds24: credits per 5 minutes). */
export type PublishedLimit = Pick<RateLimit, "capacity" | "windowMs">;

/** Share of the limit pushes leave for inbound calls (a new booking is fetched first). */
export const DEFAULT_RESERVE = 0.1;

export interface CoalesceConfig {
  /** A push waits until no change has arrived for this long… */
  quietMs: number;
  /** …but never longer than this after the oldest change it carries. */
  maxDelayMs: number;
}

export const DEFAULT_COALESCE: CoalesceConfig = { quietMs: 200, maxDelayMs: 1_000 };

export interface GateSettings {
  rateLimit: RateLimit;
  breaker: BreakerConfig;
  coalesce: CoalesceConfig;
}

/** The per-connection overrides as the API takes and returns them (snake_case, seconds). */
export const gateSettingsSchema = z
  .object({
    rate_limit: z
      .object({
        // A call costs at least 1: below that nothing could ever leave.
        capacity: z.number().min(1).max(100_000),
        window_seconds: z.number().positive().max(86_400),
        reserve: z.number().min(0).max(0.5).optional(),
      })
      .strict()
      .optional(),
    circuit: z
      .object({
        failure_threshold: z.number().int().min(1).max(1_000).optional(),
        open_seconds: z.number().positive().max(86_400).optional(),
        success_threshold: z.number().int().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    coalesce: z
      .object({
        quiet_ms: z.number().int().min(0).max(60_000).optional(),
        max_delay_ms: z.number().int().min(0).max(600_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type GateSettingsInput = z.infer<typeof gateSettingsSchema>;

/**
 * The platform's published limit and the engine's defaults with the connection's overrides on
 * top. Bad stored JSON is ignored. (services/gate-settings.ts looks the limit up by platform.)
 */
export function gateSettingsOf(
  base: PublishedLimit,
  stored: string | null | undefined,
  defaults: CoalesceConfig = DEFAULT_COALESCE,
): GateSettings {
  let own: GateSettingsInput = {};
  if (stored) {
    try {
      const parsed = gateSettingsSchema.safeParse(JSON.parse(stored));
      if (parsed.success) own = parsed.data;
    } catch {
      // Only the API writes this column, and it validates; a hand-edited row falls back to defaults.
    }
  }
  const coalesce = {
    quietMs: own.coalesce?.quiet_ms ?? defaults.quietMs,
    maxDelayMs: own.coalesce?.max_delay_ms ?? defaults.maxDelayMs,
  };
  return {
    rateLimit: {
      capacity: own.rate_limit?.capacity ?? base.capacity,
      windowMs: own.rate_limit ? own.rate_limit.window_seconds * 1000 : base.windowMs,
      reserve: own.rate_limit?.reserve ?? DEFAULT_RESERVE,
    },
    breaker: {
      ...DEFAULT_BREAKER,
      failureThreshold: own.circuit?.failure_threshold ?? DEFAULT_BREAKER.failureThreshold,
      openMs:
        own.circuit?.open_seconds !== undefined
          ? own.circuit.open_seconds * 1000
          : DEFAULT_BREAKER.openMs,
      successThreshold: own.circuit?.success_threshold ?? DEFAULT_BREAKER.successThreshold,
    },
    coalesce: { ...coalesce, maxDelayMs: Math.max(coalesce.maxDelayMs, coalesce.quietMs) },
  };
}

/**
 * When the flush for pending changes is due: once changes have been quiet for `quietMs`, at the
 * latest `maxDelayMs` after the oldest one, and never before `notBefore` (a rate-limit wait, an
 * open circuit or a retry backoff).
 */
export function flushDueAt(
  c: CoalesceConfig,
  t: { pendingSince: number; lastMarkAt: number; notBefore: number },
): number {
  const settled = Math.min(t.lastMarkAt + c.quietMs, t.pendingSince + c.maxDelayMs);
  return Math.max(settled, t.notBefore);
}
