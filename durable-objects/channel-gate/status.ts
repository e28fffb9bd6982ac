import type { CircuitState } from "../../src/domain/circuit-breaker";
import { coalesceRanges } from "../../src/domain/date-ranges";
import type { DateRange } from "../../src/domain/dates";
import { available, reserveOf } from "../../src/domain/rate-limiter";
import type { NightAspect } from "../../src/platforms/contract";
import type { GateConnection } from "./connection";
import type { GateJobs, Job } from "./jobs";
import type { GateLimits } from "./limits";
import type { PendingNights } from "./pending";
import type { GateStorage } from "./storage";
import type { GateTokenStore } from "./tokens";

export interface GateStatus {
  connectionId: string | null;
  pendingNights: number;
  pending: Array<{ roomTypeId: string; aspect: NightAspect; ranges: DateRange[] }>;
  jobs: Job[];
  lastPushAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  blockedReason: string | null;
  /** CLOSED lets calls leave; OPEN holds them (work is kept) until `reopensAt`. */
  circuit: {
    state: CircuitState;
    consecutiveFailures: number;
    consecutiveSuccesses: number;
    openedAt: number | null;
    reopensAt: number | null;
    probeInFlight: boolean;
    opens: number;
  };
  rateLimit: {
    capacity: number;
    windowMs: number;
    reserved: number;
    available: number;
    blockedUntil: number | null;
    quota: { remaining: number; resetsAt: number } | null;
    callsInWindow: number;
  };
  tokens: { refreshDueAt: number | null };
}

export interface StatusParts {
  storage: GateStorage;
  jobs: GateJobs;
  pending: PendingNights;
  limits: GateLimits;
  connection: GateConnection;
  tokens: GateTokenStore;
  clock: () => number;
}

/** What the gate holds and why, read from every part (the status route, tests). */
export async function gateStatus(p: StatusParts): Promise<GateStatus> {
  const { storage } = p;
  const rows = p.pending.all();
  const now = p.clock();
  return {
    connectionId: storage.get("connection_id"),
    pendingNights: new Set(rows.map((r) => `${r.room_type_id}|${r.night}`)).size,
    pending: [...groupBy(rows, (r) => `${r.room_type_id}|${r.aspect}`)].map(([key, list]) => ({
      roomTypeId: key.split("|")[0] as string,
      aspect: list[0]?.aspect as NightAspect,
      ranges: coalesceRanges(list.map((r) => ({ start: r.night, end: r.night }))),
    })),
    jobs: p.jobs.list(),
    lastPushAt: storage.num("last_push_at"),
    lastError: storage.get("last_error"),
    consecutiveFailures: storage.num("consecutive_failures") ?? 0,
    blockedReason: storage.get("blocked_reason"),
    circuit: circuitOf(p, now),
    rateLimit: rateLimitOf(p, now),
    tokens: { refreshDueAt: await p.tokens.refreshDueAt() },
  };
}

function circuitOf(p: StatusParts, now: number): GateStatus["circuit"] {
  const breaker = p.limits.breaker();
  const settings = p.connection.cachedSettings();
  return {
    state: breaker.state,
    consecutiveFailures: breaker.consecutiveFailures,
    consecutiveSuccesses: breaker.consecutiveSuccesses,
    openedAt: breaker.openedAt,
    reopensAt:
      breaker.state === "open" && breaker.openedAt !== null && settings
        ? breaker.openedAt + settings.breaker.openMs
        : null,
    probeInFlight: breaker.probeUntil !== null && now < breaker.probeUntil,
    opens: breaker.opens,
  };
}

function rateLimitOf(p: StatusParts, now: number): GateStatus["rateLimit"] {
  const settings = p.connection.cachedSettings();
  const limiter = p.limits.limiter();
  const limit = settings?.rateLimit ?? { capacity: 0, windowMs: 0, reserve: 0 };
  return {
    capacity: limit.capacity,
    windowMs: limit.windowMs,
    reserved: reserveOf(limit),
    available: settings ? Math.max(0, available(limiter, limit, now, "inbound")) : 0,
    blockedUntil: limiter.blockedUntil > now ? limiter.blockedUntil : null,
    quota:
      limiter.quota && now < limiter.quota.resetsAt
        ? { remaining: limiter.quota.remaining, resetsAt: limiter.quota.resetsAt }
        : null,
    callsInWindow: limiter.spends.filter((s) => s.at > now - limit.windowMs).length,
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
