import { MissingCredentialsError, connectionConfig } from "../../src/services/connections";
import { localToday } from "../../src/domain/dates";
import type { GateSettings } from "../../src/domain/gate-settings";
import { errorMessage, log } from "../../src/lib/log";
import { getAdapter } from "../../src/platforms/registry";
import { PlatformError, type PlatformAdapter } from "../../src/platforms/contract";
import { backoffSeconds, rateLimitSeconds } from "../../src/queue/retry-policy";
import { confirmedPushMappings } from "../../src/store/confirmed-mappings";
import { credentialsRefusal, type Connection, type ConnectionConfig } from "./connection";
import { heldAfter, pushableLeft } from "./flush-plan";
import type { GateJobs } from "./jobs";
import { planPushes, type PushPlanning } from "./planner";
import { sendPlanned, type PushOutcome, type PushParts } from "./push";
import { FLUSH, type FlushSchedule } from "./schedule";
import type { GateStorage } from "./storage";

const RETRY_CAP_SECONDS = 300;
const PERMANENT_RETRY_SECONDS = 900;
/**
 * How long a value this gate pushed is trusted to still be on the platform: an unchanged night is
 * not re-sent within it. Past it, a mark sends the value again (cheap insurance against edits
 * made on the platform side; reconciliation repairs drift sooner with `force`).
 */
const PUSHED_TRUST_MS = 24 * 3_600_000;

export interface FlushParts extends PushParts {
  storage: GateStorage;
  jobs: GateJobs;
  schedule: FlushSchedule;
}

/**
 * The flush job. Pushes are level-triggered: a flush reads the current truth from D1 and sends
 * the fewest requests the platform's request size allows (planner.ts), clearing each night as
 * the request carrying it succeeds. Work that may not leave yet (rate limit, open circuit,
 * backoff) stays pending and the job is due again when it can.
 */
export class GateFlush {
  /** A flush is running in this instance: marks leave scheduling to it. */
  running = false;

  constructor(private readonly p: FlushParts) {}

  async run(previousAttempts: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    const startSeq = this.p.pending.seq();
    try {
      await this.once(previousAttempts);
    } finally {
      this.running = false;
      this.scheduleMarksMadeDuring(startSeq);
    }
  }

  /**
   * Marks that reached the gate while the flush awaited (the input gate is open across every
   * await) left scheduling to it. However the flush ended — nothing to push, blocked, an error —
   * they get a due job unless the flush left one, which takes them. Marks made before it began
   * need none when it ended without one (a blocked connection), so a paused gate never spins.
   */
  private scheduleMarksMadeDuring(startSeq: number): void {
    if (this.p.pending.countSince(startSeq) === 0) return;
    if (this.p.jobs.get(FLUSH)) return;
    const now = this.p.clock();
    this.p.pending.openWindow(now);
    this.p.jobs.set(FLUSH, this.p.schedule.due(this.p.connection.coalesce(), now), 0);
  }

  private async once(previousAttempts: number): Promise<void> {
    // Blocked or nothing to do: the job ends here; the next markDirty schedules it again.
    const done = () => this.p.jobs.delete(FLUSH);
    const started = this.p.clock();
    const ready = await this.pushable();
    if (!ready) return done();
    const { connection, settings, adapter } = ready;
    // Nothing may leave yet for the most urgent work pending: come back when something can,
    // without opening a sync log.
    if (this.p.schedule.nextPushAt(settings) > 0) {
      return this.p.jobs.set(
        FLUSH,
        this.p.schedule.due(settings.coalesce, started),
        previousAttempts,
      );
    }
    const today = localToday(connection.timeZone, started);
    this.p.pending.dropBefore(today);
    this.p.pushed.expire(today, started - PUSHED_TRUST_MS);
    // Marks from here on belong to the next flush's coalescing window.
    this.p.pending.closeWindow();
    // With price sync off, prices changed meanwhile stay pending, unplanned: turning it on flushes
    // the gate (src/api/channel-connections/) and the channel gets them then.
    const pushPrices = Boolean(connection.syncPricing);
    const planning = await planPushes({
      pending: this.p.pending,
      pushed: this.p.pushed,
      db: this.p.env().DB,
      adapter,
      externalPropertyId: connection.externalPropertyId,
      ...(await this.confirmedMappings(connection.id)),
      pushPrices,
      now: started,
      budget: this.p.schedule.budget(settings),
    });
    const held = this.holdUnpushable(planning);
    const config = await this.credentialsFor(connection, planning);
    if (config === false) return done();
    const sent = await sendPlanned(
      this.p,
      connection,
      settings,
      config,
      planning,
      previousAttempts,
    );
    await this.afterPush(connection, settings, sent, { held, pushPrices, previousAttempts });
  }

  /**
   * The connection, its settings and adapter when its work may be pushed at all; otherwise the
   * reason is recorded as blocked and the work kept (reactivating the connection marks it dirty
   * again and flushes), except for a connection that is gone, whose nights nothing will take.
   */
  private async pushable(): Promise<{
    connection: Connection;
    settings: GateSettings;
    adapter: PlatformAdapter;
  } | null> {
    const connectionId = this.p.storage.get("connection_id");
    if (!connectionId) return null;
    const connection = await this.p.connection.find(connectionId);
    if (!connection) {
      this.p.pending.clearAll();
      this.p.connection.block(`connection ${connectionId} no longer exists`);
      return null;
    }
    const settings = this.p.connection.settingsOf(connection);
    if (
      connection.status !== "active" ||
      !connection.syncAvailability ||
      connection.syncDirection === "inbound_only"
    ) {
      this.p.connection.block(
        `connection is ${connection.status}, availability sync ${connection.syncAvailability ? "on" : "off"}, ${connection.syncDirection}`,
      );
      return null;
    }
    const adapter = getAdapter(connection.platform);
    if (!adapter) {
      this.p.connection.block(`no adapter for ${connection.platform} yet`);
      return null;
    }
    return { connection, settings, adapter };
  }

  /**
   * Credentials are needed only when something is to be sent (null: nothing is). None of its own
   * (and none it may borrow): nothing can leave until someone stores them; the work is kept, as
   * for a pause (false).
   */
  private async credentialsFor(
    connection: Connection,
    planning: PushPlanning,
  ): Promise<ConnectionConfig | null | false> {
    if (planning.planned.length === 0) return null;
    try {
      return await connectionConfig(this.p.env(), connection);
    } catch (err) {
      if (!(err instanceof MissingCredentialsError)) throw err;
      this.p.connection.block(err.message);
      return false;
    }
  }

  /**
   * Only ids the platform confirmed this connection owns, as of this flush: a mapping deleted,
   * moved or still pending is never pushed to.
   */
  private async confirmedMappings(
    connectionId: string,
  ): Promise<{ roomOf: Map<string, string>; rateOf: Map<string, string> }> {
    // A rate plan mapping is keyed here by the room type its rate plan prices.
    const mappings = await confirmedPushMappings(this.p.env().DB, connectionId);
    const roomOf = new Map<string, string>();
    const rateOf = new Map<string, string>();
    for (const m of mappings) {
      (m.type === "room_type" ? roomOf : rateOf).set(m.internalId, m.externalId);
    }
    return { roomOf, rateOf };
  }

  /** Record the groups the platform cannot take, and the blocked reason they make (heldAfter). */
  private holdUnpushable(planning: PushPlanning): Set<string> {
    const { held, reason } = heldAfter(this.p.schedule.held(), this.p.pending.groups(), planning);
    this.p.schedule.setHeld(held);
    if (reason) this.p.connection.block(reason);
    else this.p.connection.unblock();
    return new Set(Object.keys(held));
  }

  /** After the requests: pacing, then the next flush (backoff after a failure). */
  private async afterPush(
    connection: Connection,
    settings: GateSettings,
    sent: PushOutcome,
    left: { held: Set<string>; pushPrices: boolean; previousAttempts: number },
  ): Promise<void> {
    const finished = this.p.clock();
    const remaining = pushableLeft(this.p.pending.tally(), left.held, left.pushPrices);
    if (sent.calls > 0) {
      this.p.storage.set("last_push_at", finished);
      this.p.schedule.pace(settings, finished, remaining.bulk > 0);
    }
    if (sent.failure) {
      return this.afterFailure(connection, settings, sent.failure, left.previousAttempts, finished);
    }
    this.p.storage.set("consecutive_failures", 0);
    this.p.storage.set("not_before", null);
    // Work left (beyond the budget, held by the limiter, or marked during the push): flush it on
    // its own schedule, which waits for the tokens it needs.
    if (remaining.total > 0) {
      this.p.pending.openWindow(finished);
      this.p.jobs.set(FLUSH, this.p.schedule.due(settings.coalesce, finished), 0);
    } else {
      this.p.jobs.delete(FLUSH);
      if (this.p.pending.count() === 0) this.p.pending.closeWindow();
    }
  }

  /** A request failed: expire refused credentials, or back off (as the failure asks). */
  private async afterFailure(
    connection: Connection,
    settings: GateSettings,
    failure: unknown,
    previousAttempts: number,
    finished: number,
  ): Promise<void> {
    if (credentialsRefusal(failure)) {
      await this.p.connection.credentialsRefused(connection, failure);
      this.p.jobs.delete(FLUSH);
      return;
    }
    const attempts = previousAttempts + 1;
    const delay =
      failure instanceof PlatformError && failure.kind === "rate_limited"
        ? rateLimitSeconds(attempts, failure.retryAfterSeconds)
        : failure instanceof PlatformError && failure.kind === "permanent"
          ? PERMANENT_RETRY_SECONDS
          : Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts));
    this.p.storage.set("last_error", errorMessage(failure).slice(0, 500));
    this.p.storage.set("consecutive_failures", attempts);
    // The breaker or limiter may hold calls longer than the backoff: whichever is later.
    const retryAt = Math.max(finished + delay * 1000, this.p.schedule.nextPushAt(settings));
    this.p.storage.set("not_before", retryAt);
    this.p.jobs.set(FLUSH, retryAt, attempts);
    log("warn", "gate.push_failed", {
      connectionId: connection.id,
      attempts,
      delay,
      error: errorMessage(failure),
    });
  }
}
