import { flushDueAt, type CoalesceConfig, type GateSettings } from "../../src/domain/gate-settings";
import { available, pacingMs, type Priority } from "../../src/domain/rate-limiter";
import type { GateConnection } from "./connection";
import { pushBudget, urgentPushable } from "./flush-plan";
import type { GateJobs } from "./jobs";
import type { GateLimits } from "./limits";
import type { PendingNights } from "./pending";
import type { GateStorage } from "./storage";

/** The flush's job name in the jobs table. */
export const FLUSH = "flush";
/** Most a push is held back to spread a tight rate limit over a stream of changes. */
const PACING_CAP_MS = 2_000;
/** Most an urgent push is held back while it lives on the urgent reserve (see pace()). */
const RESERVE_PACING_CAP_MS = 5_000;

export interface ScheduleParts {
  storage: GateStorage;
  jobs: GateJobs;
  pending: PendingNights;
  limits: GateLimits;
  connection: GateConnection;
  clock: () => number;
}

/**
 * When the flush job is due: the coalescing window, backoff (`not_before`), pacing
 * (`paced_until`, `urgent_paced_until`), the breaker and the limiter, each for the most urgent
 * work pending, since a sold night waits for no bulk push's tokens or pacing. The groups the
 * platform cannot take (`held_groups`) are kept here, since they decide what counts as pending.
 */
export class FlushSchedule {
  constructor(private readonly p: ScheduleParts) {}

  /** When the next flush is due, as of `now`. */
  due(coalesce: CoalesceConfig, now: number): number {
    const { storage } = this.p;
    const urgent = this.urgentPending();
    const settings = this.p.connection.cachedSettings();
    const tokensAt = settings
      ? this.p.limits.nextCallAt(settings, urgent ? "outbound" : "bulk")
      : 0;
    const pacedUntil = storage.num(urgent ? "urgent_paced_until" : "paced_until") ?? 0;
    return flushDueAt(coalesce, {
      pendingSince: storage.num("pending_since") ?? now,
      lastMarkAt: storage.num("last_mark_at") ?? now,
      notBefore: Math.max(storage.num("not_before") ?? 0, pacedUntil, tokensAt),
    });
  }

  /** Put the flush where coalescing and any wait want it, keeping its attempt count. */
  async schedule(now: number): Promise<void> {
    const due = this.due(this.p.connection.coalesce(), now);
    this.p.jobs.set(FLUSH, due, this.p.jobs.get(FLUSH)?.attempts ?? 0);
    await this.p.jobs.arm();
  }

  /** Groups ("roomType|aspect") the platform cannot take as mapped, with why. */
  held(): Record<string, string> {
    return this.p.storage.json<Record<string, string>>("held_groups") ?? {};
  }

  setHeld(held: Record<string, string>): void {
    this.p.storage.set("held_groups", Object.keys(held).length > 0 ? JSON.stringify(held) : null);
  }

  /** Nights a booking sold are pending where the platform can take them. */
  urgentPending(): boolean {
    return urgentPushable(this.p.pending.urgentRoomTypes(), this.held());
  }

  /** When the next push of the most urgent work pending could leave, or 0 for now. */
  nextPushAt(settings: GateSettings): number {
    return this.p.limits.nextCallAt(settings, this.urgentPending() ? "outbound" : "bulk");
  }

  /** Calls that may leave now (see pushBudget). */
  budget(settings: GateSettings): { urgent: number; bulk: number } {
    const limiter = this.p.limits.limiter();
    const now = this.p.clock();
    const tokens = (p: Priority) => available(limiter, settings.rateLimit, now, p);
    return pushBudget({ outbound: tokens("outbound"), bulk: tokens("bulk") }, this.urgentPending());
  }

  /**
   * Spread what is left of the window over the time until tokens come back: bulk pushes over
   * theirs, urgent ones over all outbound tokens. While bulk work holds the rest of the window,
   * urgent pushes live on its reserve: they are spread up to 5 s apart, so five tokens last 25 s
   * of bookings instead of 10 s and then most of a minute's wait.
   */
  pace(settings: GateSettings, finished: number, bulkPending: boolean): void {
    const limiter = this.p.limits.limiter();
    const limit = settings.rateLimit;
    const bulk = pacingMs(limiter, limit, finished, PACING_CAP_MS, "bulk");
    const onReserve = bulkPending && available(limiter, limit, finished, "bulk") < 1;
    const cap = onReserve ? RESERVE_PACING_CAP_MS : PACING_CAP_MS;
    const urgent = pacingMs(limiter, limit, finished, cap, "outbound");
    this.p.storage.set("paced_until", bulk > 0 ? finished + bulk : null);
    this.p.storage.set("urgent_paced_until", urgent > 0 ? finished + urgent : null);
  }
}
