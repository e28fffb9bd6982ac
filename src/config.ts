import { PLATFORM_IDS, type Platform } from "./platforms/ids";

/** Exponential backoff between queue retries: min(cap, base × factor^(n-1)) plus jitter. */
export interface BackoffPolicy {
  baseSeconds: number;
  factor: number;
  capSeconds: number;
  /** Up to this share of the delay is added at random, so many retries do not land together. */
  jitter: number;
}

/** Engine settings from Worker vars, with the defaults documented in the README. */
export interface EngineConfig {
  webhookToleranceSeconds: number;
  webhookMaxBytes: number;
  syncHorizonDays: number;
  /** The ChannelGates' default coalescing window (a connection's gate_settings override it). */
  coalesce: { quietMs: number; maxDelayMs: number };
  /** Queue redeliveries before the dead-letter queue; must match max_retries in wrangler.toml. */
  maxRetries: number;
  /** Per platform (MAX_RETRIES_<PLATFORM>), never above maxRetries (the queue's own limit). */
  maxRetriesByPlatform: Record<Platform, number>;
  backoff: BackoffPolicy;
  /** Unresolved dead letters (per tenant) above this raise a dead_letter_threshold alert. */
  deadLetterAlertThreshold: number;
  /** Finished sync logs, processed webhook logs, settled events and resolved dead letters older than this go. */
  retentionDays: number;
}

function intVar(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = value === undefined || value === "" ? NaN : Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

function numVar(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = value === undefined || value === "" ? NaN : Number(value);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

/** Seed 000: retries after 1, 2, 4, 8, 16 s, at most 5 of them. */
export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseSeconds: 1,
  factor: 2,
  capSeconds: 16,
  jitter: 0.5,
};

export function engineConfig(env: object): EngineConfig {
  const vars = env as Record<string, unknown>;
  const s = (k: string) => (typeof vars[k] === "string" ? (vars[k] as string) : undefined);
  // Cloudflare Queues allow at most 100 retries.
  const maxRetries = intVar(s("MAX_RETRIES"), DEFAULT_MAX_RETRIES, 0, 100);
  const maxRetriesByPlatform = Object.fromEntries(
    PLATFORM_IDS.map((p) => [
      p,
      intVar(s(`MAX_RETRIES_${p.toUpperCase()}`), maxRetries, 0, maxRetries),
    ]),
  ) as Record<Platform, number>;
  const baseSeconds = numVar(s("RETRY_BASE_SECONDS"), DEFAULT_BACKOFF.baseSeconds, 0, 43_200);
  return {
    webhookToleranceSeconds: intVar(s("WEBHOOK_TOLERANCE_SECONDS"), 300, 1, 3600),
    webhookMaxBytes: intVar(s("WEBHOOK_MAX_BYTES"), 65_536, 1024, 65_536),
    syncHorizonDays: intVar(s("SYNC_HORIZON_DAYS"), 365, 1, 730),
    coalesce: {
      quietMs: intVar(s("GATE_COALESCE_QUIET_MS"), 200, 0, 60_000),
      maxDelayMs: intVar(s("GATE_COALESCE_MAX_DELAY_MS"), 1_000, 0, 600_000),
    },
    maxRetries,
    maxRetriesByPlatform,
    backoff: {
      baseSeconds,
      factor: numVar(s("RETRY_FACTOR"), DEFAULT_BACKOFF.factor, 1, 10),
      capSeconds: Math.max(
        baseSeconds,
        numVar(s("RETRY_CAP_SECONDS"), DEFAULT_BACKOFF.capSeconds, 0, 43_200),
      ),
      jitter: numVar(s("RETRY_JITTER"), DEFAULT_BACKOFF.jitter, 0, 1),
    },
    deadLetterAlertThreshold: intVar(s("DEAD_LETTER_ALERT_THRESHOLD"), 10, 0, 1_000_000),
    retentionDays: intVar(s("RETENTION_DAYS"), 30, 1, 3650),
  };
}
