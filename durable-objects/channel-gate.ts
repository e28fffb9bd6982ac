import { DurableObject } from "cloudflare:workers";
import { engineConfig } from "../src/config";
import { raiseAlert } from "../src/domain/alerts";
import {
  CLOSED_BREAKER,
  onFailure,
  onNeutral,
  onSuccess,
  permit,
  type Breaker,
  type CircuitState,
} from "../src/domain/circuit-breaker";
import { connectionConfig, MissingCredentialsError } from "../src/domain/connection-config";
import { findConnectionWithTimeZone, type ConnectionRow } from "../src/domain/connections";
import { coalesceRanges, expandRanges } from "../src/domain/date-ranges";
import { addDays, localToday, type DateRange } from "../src/domain/dates";
import {
  flushDueAt,
  gateSettingsFor,
  type CoalesceConfig,
  type GateSettings,
} from "../src/domain/gate-settings";
import { writeSyncPoint } from "../src/domain/metrics";
import {
  available,
  limitHeaders,
  pacingMs,
  reserveOf,
  settle,
  take,
  waitMs,
  type LimiterState,
  type Priority,
} from "../src/domain/rate-limiter";
import {
  confirmSyncTransition,
  insertSyncLogStatement,
  syncTransitionStatement,
  transitionSyncLog,
} from "../src/domain/sync-log-state";
import { newId } from "../src/lib/ids";
import { pushIdempotencyKey } from "../src/lib/idempotency-key";
import { errorMessage, log } from "../src/lib/log";
import { parseRetryAfter } from "../src/platforms/http";
import { getAdapter } from "../src/platforms/registry";
import {
  PlatformError,
  type AdapterContext,
  type MappingClaim,
  type MappingVerdict,
  type NightAspect,
  type GateResult,
  type PulledThroughGate,
  type WebhookHint,
} from "../src/platforms/types";
import { NIGHT_ASPECTS } from "../src/queue/messages";
import { backoffSeconds, rateLimitSeconds } from "../src/queue/retry-policy";
import { GateDeferral } from "./gate-deferral";
import { clearPending, planPushes, type PlannedPush, type PushPlanning } from "./gate-push-plan";
import { GateTokenStore, TokenRefreshError } from "./gate-token-store";

export { GateDeferral };

export interface MarkDirtyInput {
  tenantId: string;
  connectionId: string;
  roomTypeId: string;
  ranges: DateRange[];
  /** What changed on these nights; both when absent. */
  aspects?: NightAspect[];
  causeKey: string;
  changedAt: number;
  /**
   * Send these nights even if the platform already has their current values from this gate
   * (drift repair, an operator's resync); otherwise an unchanged value is not sent again.
   */
  force?: boolean;
  /**
   * A booking (or a conflict) changed these nights' availability: they go out before any other
   * push, on tokens bulk pushes leave (a hold will mark its nights the same way). Kept per night
   * as the most urgent of its marks until a push carries it.
   */
  urgent?: boolean;
}

export interface GateStatus {
  connectionId: string | null;
  pendingNights: number;
  pending: Array<{ roomTypeId: string; aspect: NightAspect; ranges: DateRange[] }>;
  jobs: Array<{ name: string; dueAt: number; attempts: number }>;
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

type Connection = ConnectionRow & { timeZone: string };
type ConnectionConfig = Awaited<ReturnType<typeof connectionConfig>>;

/** What a flush's requests did. */
interface PushOutcome {
  calls: number;
  pushed: number;
  failure: unknown;
  /** The gate held a request (rate limit, circuit): nothing more left after it. */
  deferredUntil: number;
}

interface PendingRow extends Record<string, SqlStorageValue> {
  room_type_id: string;
  night: string;
  aspect: NightAspect;
  seq: number;
  forced: number;
}

const FLUSH = "flush";
const RETRY_CAP_SECONDS = 300;
const PERMANENT_RETRY_SECONDS = 900;
/** Longest an inbound call waits inside the gate before it is handed back as deferred. */
const INBOUND_MAX_WAIT_MS = 2_000;
/** How long a running job is considered taken before it is due again. */
const JOB_LEASE_MS = 60_000;
/**
 * How long a value this gate pushed is trusted to still be on the platform: an unchanged night is
 * not re-sent within it. Past it, a mark sends the value again (cheap insurance against edits
 * made on the platform side; reconciliation repairs drift sooner with `force`).
 */
const PUSHED_TRUST_MS = 24 * 3_600_000;
/** Most a push is held back to spread a tight rate limit over a stream of changes. */
const PACING_CAP_MS = 2_000;
/** Most an urgent push is held back while it lives on the urgent reserve (see pace()). */
const RESERVE_PACING_CAP_MS = 5_000;
/** A held group's reason when its room type has no confirmed mapping. */
const UNMAPPED = "unmapped";

/**
 * One ChannelGate per channel connection (platform × property). Every call to the platform for
 * that connection leaves from here — pushes, booking fetches, acknowledgements, token refreshes —
 * so the rate limiter, the circuit breaker and the tokens are exact without any coordination
 * (the tokens of an account several connections share are its TokenBroker's: gate-token-store.ts).
 *
 * Pushes are level-triggered: changes mark (room type, night, aspect) pending; a flush reads the
 * current truth from D1 and sends the fewest requests the platform's request size allows,
 * clearing each night as the request carrying it succeeds. Work that may not leave yet (rate
 * limit, open circuit, backoff) stays pending and the alarm comes back for it. One alarm drives
 * a table of due jobs; all state is in this object's SQLite storage and survives eviction.
 */
export class ChannelGate extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Injected clock: tests and the bench replace it. */
  clock: () => number = () => Date.now();
  readonly tokens: GateTokenStore;
  /** Sync logs a flush of this instance is pushing for (see closeInterruptedSyncs). */
  private readonly liveSyncs = new Map<string, { startedAt: number; retryCount: number }>();
  /** A flush is running in this instance: marks leave scheduling to it. */
  private flushing = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS pending_nights (
        room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
        seq INTEGER NOT NULL, marked_at INTEGER NOT NULL, forced INTEGER NOT NULL DEFAULT 0,
        urgent INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_type_id, night, aspect));
      CREATE TABLE IF NOT EXISTS pushed_nights (
        room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
        value TEXT NOT NULL, pushed_at INTEGER NOT NULL,
        PRIMARY KEY (room_type_id, night, aspect));
      CREATE TABLE IF NOT EXISTS jobs (
        name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS open_syncs (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS rate_spends (
        id TEXT PRIMARY KEY, at INTEGER NOT NULL, cost REAL NOT NULL,
        in_flight INTEGER NOT NULL DEFAULT 0, priority TEXT);
    `);
    // Gates created by an older build (local state) gain the columns added since.
    this.addColumn("pending_nights", "forced", "INTEGER NOT NULL DEFAULT 0");
    this.addColumn("pending_nights", "urgent", "INTEGER NOT NULL DEFAULT 0");
    this.addColumn("rate_spends", "in_flight", "INTEGER NOT NULL DEFAULT 0");
    this.addColumn("rate_spends", "priority", "TEXT");
    this.tokens = new GateTokenStore(
      this.sql,
      env,
      () => ({
        tenantId: this.getMeta("tenant_id") ?? "",
        connectionId: this.getMeta("connection_id") ?? "",
      }),
      () => this.clock(),
    );
  }

  // ---- small storage helpers ----

  private addColumn(table: string, column: string, type: string): void {
    const columns = this.sql
      .exec<{ name: string }>(`PRAGMA table_info(${table})`)
      .toArray()
      .map((c) => c.name);
    if (!columns.includes(column))
      this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }

  private getMeta(key: string): string | null {
    const row = this.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0];
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string | number | null): void {
    if (value === null) this.sql.exec(`DELETE FROM meta WHERE key = ?`, key);
    else
      this.sql.exec(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        key,
        String(value),
      );
  }

  private numMeta(key: string): number | null {
    const v = this.getMeta(key);
    return v === null ? null : Number(v);
  }

  private bind(tenantId: string, connectionId: string): void {
    const known = this.getMeta("connection_id");
    if (known && known !== connectionId) {
      throw new Error(`gate for ${known} received work for ${connectionId}`);
    }
    this.setMeta("connection_id", connectionId);
    this.setMeta("tenant_id", tenantId);
  }

  /** The connection's settings as the last flush or call loaded them; null before the first. */
  private cachedSettings(): GateSettings | null {
    const raw = this.getMeta("settings");
    return raw ? (JSON.parse(raw) as GateSettings) : null;
  }

  private coalesceConfig(): CoalesceConfig {
    return this.cachedSettings()?.coalesce ?? engineConfig(this.env).coalesce;
  }

  // ---- marking work ----

  /** Record pending nights (idempotent) and make sure a flush is due. */
  async markDirty(input: MarkDirtyInput): Promise<{ pendingNights: number }> {
    this.bind(input.tenantId, input.connectionId);
    const now = this.clock();
    // Loose UTC bounds here; the flush applies the property's local "today".
    const today = new Date(now).toISOString().slice(0, 10);
    const horizon = addDays(today, engineConfig(this.env).syncHorizonDays + 1);
    const seq = (this.numMeta("seq") ?? 0) + 1;
    this.setMeta("seq", seq);
    const aspects = input.aspects?.length ? input.aspects : NIGHT_ASPECTS;
    let marked = 0;
    for (const night of expandRanges(input.ranges)) {
      if (night < addDays(today, -1) || night > horizon) continue;
      for (const aspect of aspects) {
        marked += 1;
        this.sql.exec(
          `INSERT INTO pending_nights (room_type_id, night, aspect, seq, marked_at, forced, urgent)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(room_type_id, night, aspect) DO UPDATE SET seq = excluded.seq,
             marked_at = excluded.marked_at, forced = max(forced, excluded.forced),
             urgent = max(urgent, excluded.urgent)`,
          input.roomTypeId,
          night,
          aspect,
          seq,
          now,
          input.force ? 1 : 0,
          input.urgent ? 1 : 0,
        );
      }
    }
    if (marked > 0) {
      // The connection's own coalescing window, read once; every flush refreshes it.
      if (this.cachedSettings() === null)
        await this.loadForCall(input.tenantId, input.connectionId);
      if (this.getMeta("pending_since") === null) this.setMeta("pending_since", now);
      this.setMeta("last_mark_at", now);
      // A running flush schedules the next one itself when it ends.
      if (!this.flushing) await this.scheduleFlush(now);
    }
    return { pendingNights: this.pendingCount() };
  }

  private pendingCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM pending_nights`).one().n;
  }

  /**
   * When the next flush is due: coalescing, and any wait (backoff, circuit, rate limit, pacing)
   * for the most urgent work pending: a sold night waits for no bulk push's tokens or pacing.
   */
  private flushDue(coalesce: CoalesceConfig, now: number): number {
    const urgent = this.urgentPending();
    const settings = this.cachedSettings();
    const tokensAt = settings ? this.nextCallAt(settings, urgent ? "outbound" : "bulk") : 0;
    const pacedUntil = this.numMeta(urgent ? "urgent_paced_until" : "paced_until") ?? 0;
    return flushDueAt(coalesce, {
      pendingSince: this.numMeta("pending_since") ?? now,
      lastMarkAt: this.numMeta("last_mark_at") ?? now,
      notBefore: Math.max(this.numMeta("not_before") ?? 0, pacedUntil, tokensAt),
    });
  }

  /** Put the flush where coalescing and any wait want it, keeping its attempt count. */
  private async scheduleFlush(now: number): Promise<void> {
    const due = this.flushDue(this.coalesceConfig(), now);
    const job = this.sql
      .exec<{ attempts: number }>(`SELECT attempts FROM jobs WHERE name = ?`, FLUSH)
      .toArray()[0];
    this.setJob(FLUSH, due, job?.attempts ?? 0);
    await this.armAlarm();
  }

  /** Set a job's next run exactly. */
  private setJob(name: string, dueAt: number, attempts: number): void {
    this.sql.exec(
      `INSERT INTO jobs (name, due_at, attempts) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET due_at = excluded.due_at, attempts = excluded.attempts`,
      name,
      dueAt,
      attempts,
    );
  }

  private async armAlarm() {
    const next = this.sql
      .exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM jobs`)
      .one().due;
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current !== next) await this.ctx.storage.setAlarm(next);
  }

  override async alarm(): Promise<void> {
    const now = this.clock();
    const due = this.sql
      .exec<{ name: string; attempts: number }>(
        `SELECT name, attempts FROM jobs WHERE due_at <= ?`,
        now,
      )
      .toArray();
    for (const job of due) {
      // A lease, not a delete: if this run dies half-way (eviction, crash), the job is due again.
      this.sql.exec(`UPDATE jobs SET due_at = ? WHERE name = ?`, now + JOB_LEASE_MS, job.name);
      try {
        if (job.name === FLUSH) await this.flush(job.attempts);
        else this.sql.exec(`DELETE FROM jobs WHERE name = ?`, job.name);
      } catch (err) {
        const attempts = job.attempts + 1;
        log("error", "gate.job_failed", { job: job.name, attempts, error: errorMessage(err) });
        this.setJob(
          job.name,
          this.clock() + Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts)) * 1000,
          attempts,
        );
      }
    }
    await this.armAlarm();
  }

  private block(reason: string): void {
    if (this.getMeta("blocked_reason") !== reason) log("warn", "gate.blocked", { reason });
    this.setMeta("blocked_reason", reason);
  }

  // ---- the limiter and the breaker around every call ----

  private settings(platform: Connection["platform"], stored: string | null): GateSettings {
    const s = gateSettingsFor(platform, stored, engineConfig(this.env).coalesce);
    this.setMeta("settings", JSON.stringify(s));
    return s;
  }

  private loadLimiter(): LimiterState {
    const spends = this.sql
      .exec<{ id: string; at: number; cost: number; in_flight: number; priority: string | null }>(
        `SELECT id, at, cost, in_flight, priority FROM rate_spends`,
      )
      .toArray()
      .map((r) => ({
        id: r.id,
        at: r.at,
        cost: r.cost,
        ...(r.in_flight ? { inFlight: true } : {}),
        ...(r.priority ? { priority: r.priority as Priority } : {}),
      }));
    const quota = this.getMeta("quota");
    return {
      spends,
      blockedUntil: this.numMeta("blocked_until") ?? 0,
      quota: quota ? (JSON.parse(quota) as LimiterState["quota"]) : null,
    };
  }

  private saveLimiter(state: LimiterState): void {
    this.sql.exec(`DELETE FROM rate_spends`);
    for (const s of state.spends) {
      this.sql.exec(
        `INSERT INTO rate_spends (id, at, cost, in_flight, priority) VALUES (?, ?, ?, ?, ?)`,
        s.id,
        s.at,
        s.cost,
        s.inFlight ? 1 : 0,
        s.priority ?? null,
      );
    }
    this.setMeta("blocked_until", state.blockedUntil > 0 ? state.blockedUntil : null);
    this.setMeta("quota", state.quota ? JSON.stringify(state.quota) : null);
  }

  private loadBreaker(): Breaker {
    const raw = this.getMeta("breaker");
    return raw ? (JSON.parse(raw) as Breaker) : CLOSED_BREAKER;
  }

  private async saveBreaker(next: Breaker, connection: Connection): Promise<void> {
    const before = this.loadBreaker();
    this.setMeta("breaker", JSON.stringify(next));
    if (before.state === next.state) return;
    log(next.state === "open" ? "warn" : "info", "gate.circuit", {
      connectionId: connection.id,
      from: before.state,
      to: next.state,
    });
    if (next.state === "open") {
      try {
        await raiseAlert(
          this.env.DB,
          {
            tenantId: connection.tenantId,
            kind: "circuit_open",
            severity: "warning",
            message: `${connection.platform} circuit opened for connection ${connection.id} after ${next.consecutiveFailures} consecutive failures; calls held, work kept`,
            details: { connectionId: connection.id, opens: next.opens },
            dedupeKey: `circuit_open:${connection.id}`,
          },
          this.clock(),
        );
      } catch (err) {
        log("error", "gate.alert_failed", { error: errorMessage(err) });
      }
    }
  }

  /** When the next call of this priority could leave, or 0 for now. */
  private nextCallAt(settings: GateSettings, priority: Priority): number {
    const now = this.clock();
    const p = permit(this.loadBreaker(), settings.breaker, now);
    if (!p.allowed) return now + p.retryInMs;
    const wait = waitMs(this.loadLimiter(), settings.rateLimit, 1, now, priority);
    return wait > 0 ? now + wait : 0;
  }

  /**
   * The fetch every adapter call of this connection uses: the breaker must let it through, the
   * limiter must have a token, and the answer (status, Retry-After, quota headers) settles both.
   */
  private gatedFetch(
    connection: Connection,
    settings: GateSettings,
    priority: Priority,
  ): typeof fetch {
    return async (input, init) => {
      // Inbound calls (a new booking to fetch) may wait here a little for a token or for the
      // half-open probe to report; pushes never wait in memory: the alarm comes back for them.
      const giveUpAt = Date.now() + (priority === "inbound" ? INBOUND_MAX_WAIT_MS : 0);
      let now = this.clock();
      let p = permit(this.loadBreaker(), settings.breaker, now);
      for (;;) {
        const wait = p.allowed
          ? waitMs(this.loadLimiter(), settings.rateLimit, 1, now, priority)
          : p.retryInMs;
        if (wait <= 0) break;
        const probing = !p.allowed && p.breaker.state === "half_open";
        const pause = probing ? 50 : wait;
        if (Date.now() + pause > giveUpAt) {
          throw new GateDeferral(
            connection.platform,
            now + wait,
            p.allowed ? "rate_limit" : "circuit_open",
            now,
          );
        }
        await scheduler.wait(pause);
        now = this.clock();
        p = permit(this.loadBreaker(), settings.breaker, now);
      }
      if (!p.allowed) throw new Error("unreachable: a refused permit always waits or defers");
      await this.saveBreaker(p.breaker, connection);
      const spendId = newId("call");
      this.saveLimiter(
        take(
          this.loadLimiter(),
          settings.rateLimit,
          { id: spendId, at: now, cost: 1, priority },
          now,
        ),
      );
      let res: Response;
      try {
        res = await fetch(input, init);
      } catch (err) {
        // No answer (network, timeout): the platform failed us.
        const finishedAt = this.clock();
        this.saveLimiter(settle(this.loadLimiter(), settings.rateLimit, spendId, { finishedAt }));
        await this.saveBreaker(
          onFailure(this.loadBreaker(), settings.breaker, finishedAt),
          connection,
        );
        throw err;
      }
      const finishedAt = this.clock();
      this.saveLimiter(
        settle(this.loadLimiter(), settings.rateLimit, spendId, {
          finishedAt,
          status: res.status,
          retryAfterSeconds:
            res.status === 429 || res.status === 503
              ? parseRetryAfter(res.headers.get("retry-after"), finishedAt)
              : undefined,
          ...limitHeaders(res.headers),
        }),
      );
      const breaker = this.loadBreaker();
      // 5xx: the platform is failing. 429: slow down (the limiter's business). Anything else,
      // including a 4xx refusing our input, shows the platform up.
      const next =
        res.status >= 500
          ? onFailure(breaker, settings.breaker, finishedAt)
          : res.status === 429
            ? onNeutral(breaker)
            : onSuccess(breaker, settings.breaker, finishedAt);
      await this.saveBreaker(next, connection);
      return res;
    };
  }

  private adapterContext(
    connection: Connection,
    settings: GateSettings,
    priority: Priority,
    config: Awaited<ReturnType<typeof connectionConfig>>,
    idempotencyKey?: string,
  ): AdapterContext {
    return {
      baseUrl: config.baseUrl,
      credentials: config.credentials,
      fetch: this.gatedFetch(connection, settings, priority),
      now: () => this.clock(),
      tokens: this.tokens,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
  }

  /**
   * The platform refused the connection's credentials (a refresh failed, or a call was refused
   * again after one refresh): the connection is `expired` until someone re-authorises it.
   */
  private async credentialsRefused(connection: Connection, err: PlatformError): Promise<void> {
    const now = this.clock();
    this.block(`credentials refused: ${err.message}`);
    try {
      await this.env.DB.batch([
        this.env.DB.prepare(
          `UPDATE channel_connections SET status = 'expired', last_error = ?, updated_at = ?
           WHERE id = ? AND status = 'active'`,
        ).bind(err.message.slice(0, 500), now, connection.id),
      ]);
      await raiseAlert(
        this.env.DB,
        {
          tenantId: connection.tenantId,
          kind: "connection_expired",
          severity: "critical",
          message: `${connection.platform} refused the credentials of connection ${connection.id}; it is marked expired and needs re-authorisation (pending changes are kept)`,
          details: { connectionId: connection.id, error: err.message },
          dedupeKey: `connection_expired:${connection.id}`,
        },
        now,
      );
    } catch (e) {
      log("error", "gate.expire_failed", { error: errorMessage(e) });
    }
  }

  // ---- inbound calls (RPC from the inbound consumer) ----

  private async loadForCall(
    tenantId: string,
    connectionId: string,
  ): Promise<{ connection: Connection; settings: GateSettings } | null> {
    this.bind(tenantId, connectionId);
    const connection = await findConnectionWithTimeZone(this.env.DB, connectionId);
    if (!connection || connection.tenantId !== tenantId) return null;
    return { connection, settings: this.settings(connection.platform, connection.gateSettings) };
  }

  private async inboundCall<T>(
    input: { tenantId: string; connectionId: string },
    run: (ctx: AdapterContext, connection: Connection) => Promise<T>,
  ): Promise<GateResult<T>> {
    try {
      const loaded = await this.loadForCall(input.tenantId, input.connectionId);
      if (!loaded) {
        return {
          ok: false,
          error: { kind: "permanent", message: `connection ${input.connectionId} not found` },
        };
      }
      const { connection, settings } = loaded;
      const config = await connectionConfig(this.env, connection);
      const ctx = this.adapterContext(connection, settings, "inbound", config);
      try {
        return { ok: true, value: await run(ctx, connection) };
      } catch (err) {
        if (credentialsRefusal(err)) await this.credentialsRefused(connection, err);
        throw err;
      }
    } catch (err) {
      if (err instanceof PlatformError) {
        return {
          ok: false,
          error: {
            kind: err.kind,
            message: err.message,
            ...(err instanceof MissingCredentialsError ? { missingCredentials: true } : {}),
            ...(err.status !== undefined ? { status: err.status } : {}),
            ...(err.retryAfterSeconds !== undefined
              ? { retryAfterSeconds: err.retryAfterSeconds }
              : {}),
            ...(err instanceof GateDeferral ? { heldUntil: err.retryAt } : {}),
          },
        };
      }
      throw err;
    }
  }

  /** Fetch the authoritative booking(s) a webhook or pull points at, through the limiter. */
  async pullBookings(input: {
    tenantId: string;
    connectionId: string;
    hint: WebhookHint;
  }): Promise<GateResult<PulledThroughGate>> {
    return this.inboundCall(input, async (ctx, connection) => {
      const adapter = getAdapter(connection.platform);
      if (!adapter) {
        throw new PlatformError(connection.platform, "permanent", "no adapter for this platform");
      }
      const pulled = await adapter.fetchBookings(ctx, input.hint);
      return { bookings: pulled.bookings, acknowledgement: pulled.acknowledgement ?? null };
    });
  }

  /** Tell the platform which pulled bookings are stored (Booking.com acknowledgement). */
  async acknowledge(input: {
    tenantId: string;
    connectionId: string;
    acknowledgement: unknown;
    stored: string[];
  }): Promise<GateResult<null>> {
    return this.inboundCall(input, async (ctx, connection) => {
      const adapter = getAdapter(connection.platform);
      if (adapter?.acknowledge && input.acknowledgement !== null) {
        await adapter.acknowledge(ctx, input.acknowledgement, input.stored);
      }
      return null;
    });
  }

  /**
   * Ask the platform, with this connection's own credentials and through its limits, whether the
   * connection's account owns and may write this id (a mapping being created or confirmed).
   */
  async verifyMapping(input: {
    tenantId: string;
    connectionId: string;
    claim: Omit<MappingClaim, "externalPropertyId">;
  }): Promise<GateResult<MappingVerdict>> {
    return this.inboundCall(input, async (ctx, connection) => {
      const verify = getAdapter(connection.platform)?.verifyMapping;
      if (!verify) {
        throw new PlatformError(
          connection.platform,
          "permanent",
          "no mapping check for this platform",
        );
      }
      return verify(ctx, { ...input.claim, externalPropertyId: connection.externalPropertyId });
    });
  }

  // ---- pushing ----

  private async flush(previousAttempts: number): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    const startSeq = this.numMeta("seq") ?? 0;
    try {
      await this.flushOnce(previousAttempts);
    } finally {
      this.flushing = false;
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
    const fresh = this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM pending_nights WHERE seq > ?`, startSeq)
      .one().n;
    if (fresh === 0) return;
    const job = this.sql.exec(`SELECT 1 FROM jobs WHERE name = ?`, FLUSH).toArray()[0];
    if (job) return;
    const now = this.clock();
    if (this.getMeta("pending_since") === null) this.setMeta("pending_since", now);
    this.setJob(FLUSH, this.flushDue(this.coalesceConfig(), now), 0);
  }

  private async flushOnce(previousAttempts: number): Promise<void> {
    const connectionId = this.getMeta("connection_id");
    // Blocked or nothing to do: the job ends here; the next markDirty schedules it again.
    const done = () => void this.sql.exec(`DELETE FROM jobs WHERE name = ?`, FLUSH);
    if (!connectionId) return done();
    const started = this.clock();
    const connection = await findConnectionWithTimeZone(this.env.DB, connectionId);
    if (!connection) {
      // The connection is gone: nothing will ever take these nights.
      this.sql.exec(`DELETE FROM pending_nights`);
      this.block(`connection ${connectionId} no longer exists`);
      return done();
    }
    const settings = this.settings(connection.platform, connection.gateSettings);
    if (
      connection.status !== "active" ||
      !connection.syncAvailability ||
      connection.syncDirection === "inbound_only"
    ) {
      // Kept, not dropped: reactivating the connection marks it dirty again and flushes.
      this.block(
        `connection is ${connection.status}, availability sync ${connection.syncAvailability ? "on" : "off"}, ${connection.syncDirection}`,
      );
      return done();
    }
    const adapter = getAdapter(connection.platform);
    if (!adapter) {
      this.block(`no adapter for ${connection.platform} yet`);
      return done();
    }
    // Nothing may leave yet for the most urgent work pending: come back when something can,
    // without opening a sync log.
    if (this.nextPushAt(settings) > 0) {
      return this.setJob(FLUSH, this.flushDue(settings.coalesce, started), previousAttempts);
    }

    const today = localToday(connection.timeZone, started);
    this.sql.exec(`DELETE FROM pending_nights WHERE night < ?`, today);
    this.sql.exec(
      `DELETE FROM pushed_nights WHERE night < ? OR pushed_at < ?`,
      today,
      started - PUSHED_TRUST_MS,
    );
    // Marks from here on belong to the next flush's coalescing window.
    this.setMeta("pending_since", null);
    // With price sync off, prices changed meanwhile stay pending, unplanned: turning it on flushes
    // the gate (routes/channel-connections.ts) and the channel gets them then.
    const pushPrices = Boolean(connection.syncPricing);
    const planning = await planPushes({
      sql: this.sql,
      db: this.env.DB,
      adapter,
      externalPropertyId: connection.externalPropertyId,
      ...(await this.confirmedMappings(connectionId)),
      pushPrices,
      now: started,
      budget: this.pushBudget(settings),
    });
    const held = this.holdUnpushable(planning);

    // Credentials are needed only when something is to be sent. None of its own (and none it may
    // borrow): nothing can leave until someone stores them; the work is kept, as for a pause.
    let config: ConnectionConfig | null = null;
    if (planning.planned.length > 0) {
      try {
        config = await connectionConfig(this.env, connection);
      } catch (err) {
        if (!(err instanceof MissingCredentialsError)) throw err;
        this.block(err.message);
        return done();
      }
    }
    const sent = await this.sendPlanned(connection, settings, config, planning, previousAttempts);
    await this.afterPush(connection, settings, sent, held, pushPrices, previousAttempts);
  }

  /**
   * Only ids the platform confirmed this connection owns, as of this flush: a mapping deleted,
   * moved or still pending is never pushed to.
   */
  private async confirmedMappings(
    connectionId: string,
  ): Promise<{ roomOf: Map<string, string>; rateOf: Map<string, string> }> {
    const mappings = await this.env.DB.prepare(
      // A rate plan mapping is keyed here by the room type its rate plan prices.
      `SELECT m.mapping_type AS type, COALESCE(rp.room_type_id, m.internal_id) AS internalId,
              m.external_id AS externalId
       FROM channel_mappings m
       LEFT JOIN rate_plans rp ON m.mapping_type = 'rate_plan' AND rp.id = m.internal_id
       WHERE m.connection_id = ? AND m.deleted_at IS NULL AND m.status = 'confirmed'
         AND m.mapping_type IN ('room_type', 'rate_plan')
       ORDER BY m.created_at`,
    )
      .bind(connectionId)
      .all<{ type: string; internalId: string; externalId: string }>();
    const roomOf = new Map<string, string>();
    const rateOf = new Map<string, string>();
    for (const m of mappings.results) {
      (m.type === "room_type" ? roomOf : rateOf).set(m.internalId, m.externalId);
    }
    return { roomOf, rateOf };
  }

  /**
   * Calls that may leave now, at least one: what is planned beyond them would be read from D1
   * only to wait. Bulk pushes leave the urgent reserve; urgent ones may use it.
   */
  private pushBudget(settings: GateSettings): { urgent: number; bulk: number } {
    const limiter = this.loadLimiter();
    const now = this.clock();
    const tokens = (p: Priority) =>
      Math.max(0, Math.floor(available(limiter, settings.rateLimit, now, p)));
    const urgent = Math.max(1, tokens("outbound"));
    return { urgent, bulk: Math.max(this.urgentPending() ? 0 : 1, tokens("bulk")) };
  }

  /**
   * Groups ("roomType|aspect") the platform cannot take as mapped, and the blocked reason they
   * make. Kept across flushes: one that stops at its budget does not look at every group again.
   */
  private holdUnpushable(planning: PushPlanning): Set<string> {
    const before = this.heldGroups();
    const pending = new Set(
      this.sql
        .exec<{ g: string }>(
          `SELECT DISTINCT room_type_id || '|' || aspect AS g FROM pending_nights`,
        )
        .toArray()
        .map((r) => r.g),
    );
    const next: Record<string, string> = {};
    for (const [group, reason] of Object.entries(before)) {
      if (reason !== UNMAPPED && pending.has(group) && !planning.visited.has(group))
        next[group] = reason;
    }
    for (const [group, reason] of planning.skipped) next[group] = reason;
    for (const id of planning.unmapped) {
      next[`${id}|availability`] = UNMAPPED;
      next[`${id}|price`] = UNMAPPED;
    }
    this.setMeta("held_groups", Object.keys(next).length > 0 ? JSON.stringify(next) : null);
    const reasons = [...new Set(Object.values(next).filter((r) => r !== UNMAPPED))];
    if (planning.unmapped.length > 0)
      reasons.unshift(`room types without a mapping: ${planning.unmapped.join(", ")}`);
    if (reasons.length > 0) this.block(reasons.join("; "));
    else this.setMeta("blocked_reason", null);
    return new Set(Object.keys(next));
  }

  private heldGroups(): Record<string, string> {
    const raw = this.getMeta("held_groups");
    return raw ? (JSON.parse(raw) as Record<string, string>) : {};
  }

  /** Nights a booking sold are pending where the platform can take them. */
  private urgentPending(): boolean {
    const held = this.heldGroups();
    return this.sql
      .exec<{ id: string }>(
        `SELECT DISTINCT room_type_id AS id FROM pending_nights WHERE urgent = 1 AND aspect = 'availability'`,
      )
      .toArray()
      .some((r) => !(`${r.id}|availability` in held));
  }

  /** When the next push of the most urgent work pending could leave, or 0 for now. */
  private nextPushAt(settings: GateSettings): number {
    return this.nextCallAt(settings, this.urgentPending() ? "outbound" : "bulk");
  }

  /** Send the planned requests in order, under one sync log, until one may not leave or fails. */
  private async sendPlanned(
    connection: Connection,
    settings: GateSettings,
    config: ConnectionConfig | null,
    planning: PushPlanning,
    previousAttempts: number,
  ): Promise<PushOutcome> {
    const started = this.clock();
    const out: PushOutcome = { calls: 0, pushed: 0, failure: null, deferredUntil: 0 };
    await this.closeInterruptedSyncs(started);
    if (planning.planned.length === 0 || !config) return out;
    const syncId = await this.openSync(connection, started, previousAttempts);
    try {
      for (const push of planning.planned) {
        if (!(await this.sendOne(connection, settings, config, push, out))) break;
      }
    } catch (err) {
      // Not a platform answer (D1, a bug): the sync log fails with it; the alarm retries the job.
      if (syncId)
        await this.closeSync(syncId, connection, this.clock(), out.pushed, out.calls, err);
      throw err;
    }
    if (syncId) {
      const n = planning.unchanged;
      const current = n > 0 ? `; ${n} night value(s) already on the platform` : "";
      const note = out.deferredUntil
        ? `${out.calls} platform call(s)${current}; the rest held until ${new Date(out.deferredUntil).toISOString()}`
        : `${out.calls} platform call(s)${current}`;
      const finished = this.clock();
      await this.closeSync(syncId, connection, finished, out.pushed, out.calls, out.failure, note);
    }
    return out;
  }

  /** One planned request. False when the rest must wait: held by the gate, or failed. */
  private async sendOne(
    connection: Connection,
    settings: GateSettings,
    config: ConnectionConfig,
    push: PlannedPush,
    out: PushOutcome,
  ): Promise<boolean> {
    const { roomTypeId, call, seqs, values } = push;
    const maxSeq = Math.max(0, ...call.dates.map((d) => seqs.get(d) ?? 0));
    // Names what is sent (and which marks): a retry of the same body repeats it, another body
    // never shares it (src/lib/idempotency-key.ts).
    const key = await pushIdempotencyKey(connection.id, maxSeq, call.content);
    const priority: Priority = push.urgent ? "outbound" : "bulk";
    try {
      await call.send(this.adapterContext(connection, settings, priority, config, key));
    } catch (err) {
      if (err instanceof GateDeferral) out.deferredUntil = err.retryAt;
      else {
        out.failure = err;
        // The platform may or may not have applied it: trust nothing about these nights.
        for (const night of call.dates) {
          this.sql.exec(
            `DELETE FROM pushed_nights WHERE room_type_id = ? AND night = ? AND aspect = ?`,
            roomTypeId,
            night,
            call.aspect,
          );
        }
      }
      return false;
    }
    out.calls += 1;
    out.pushed += call.dates.length;
    const at = this.clock();
    for (const night of call.dates) {
      this.sql.exec(
        `INSERT INTO pushed_nights (room_type_id, night, aspect, value, pushed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(room_type_id, night, aspect) DO UPDATE SET value = excluded.value, pushed_at = excluded.pushed_at`,
        roomTypeId,
        night,
        call.aspect,
        values.get(night) ?? "",
        at,
      );
      // Only nights not re-marked while the request was out are done (seq unchanged).
      clearPending(this.sql, roomTypeId, night, call.aspect, seqs.get(night) ?? -1);
    }
    return true;
  }

  /** After the requests: pacing, then the next flush (backoff after a failure). */
  private async afterPush(
    connection: Connection,
    settings: GateSettings,
    sent: PushOutcome,
    held: Set<string>,
    pushPrices: boolean,
    previousAttempts: number,
  ): Promise<void> {
    const finished = this.clock();
    const remaining = this.remainingPushable(held, pushPrices);
    if (sent.calls > 0) {
      this.setMeta("last_push_at", finished);
      this.pace(settings, finished, remaining.bulk > 0);
    }
    const failure = sent.failure;
    if (failure) {
      if (credentialsRefusal(failure)) {
        await this.credentialsRefused(connection, failure);
        this.sql.exec(`DELETE FROM jobs WHERE name = ?`, FLUSH);
        return;
      }
      const attempts = previousAttempts + 1;
      const delay =
        failure instanceof PlatformError && failure.kind === "rate_limited"
          ? rateLimitSeconds(attempts, failure.retryAfterSeconds)
          : failure instanceof PlatformError && failure.kind === "permanent"
            ? PERMANENT_RETRY_SECONDS
            : Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts));
      this.setMeta("last_error", errorMessage(failure).slice(0, 500));
      this.setMeta("consecutive_failures", attempts);
      // The breaker or limiter may hold calls longer than the backoff: whichever is later.
      const retryAt = Math.max(finished + delay * 1000, this.nextPushAt(settings));
      this.setMeta("not_before", retryAt);
      this.setJob(FLUSH, retryAt, attempts);
      log("warn", "gate.push_failed", {
        connectionId: connection.id,
        attempts,
        delay,
        error: errorMessage(failure),
      });
      return;
    }
    this.setMeta("consecutive_failures", 0);
    this.setMeta("not_before", null);
    // Work left (beyond the budget, held by the limiter, or marked during the push): flush it on
    // its own schedule, which waits for the tokens it needs.
    if (remaining.total > 0) {
      if (this.getMeta("pending_since") === null) this.setMeta("pending_since", finished);
      this.setJob(FLUSH, this.flushDue(settings.coalesce, finished), 0);
    } else {
      this.sql.exec(`DELETE FROM jobs WHERE name = ?`, FLUSH);
      if (this.pendingCount() === 0) this.setMeta("pending_since", null);
    }
  }

  /**
   * Spread what is left of the window over the time until tokens come back: bulk pushes over
   * theirs, urgent ones over all outbound tokens. While bulk work holds the rest of the window,
   * urgent pushes live on its reserve: they are spread up to 5 s apart, so five tokens last 25 s
   * of bookings instead of 10 s and then most of a minute's wait.
   */
  private pace(settings: GateSettings, finished: number, bulkPending: boolean): void {
    const limiter = this.loadLimiter();
    const limit = settings.rateLimit;
    const bulk = pacingMs(limiter, limit, finished, PACING_CAP_MS, "bulk");
    const onReserve = bulkPending && available(limiter, limit, finished, "bulk") < 1;
    const cap = onReserve ? RESERVE_PACING_CAP_MS : PACING_CAP_MS;
    const urgent = pacingMs(limiter, limit, finished, cap, "outbound");
    this.setMeta("paced_until", bulk > 0 ? finished + bulk : null);
    this.setMeta("urgent_paced_until", urgent > 0 ? finished + urgent : null);
  }

  /**
   * Pending rows a flush could push now (not held by a missing mapping or the platform, nor
   * prices while price sync is off), and those of them that are not urgent.
   */
  private remainingPushable(
    held: Set<string>,
    pushPrices: boolean,
  ): { total: number; bulk: number } {
    const rows = this.sql
      .exec<{ room_type_id: string; aspect: string; urgent: number; n: number }>(
        `SELECT room_type_id, aspect, urgent, count(*) AS n FROM pending_nights
         GROUP BY room_type_id, aspect, urgent`,
      )
      .toArray()
      .filter((r) => !held.has(`${r.room_type_id}|${r.aspect}`))
      .filter((r) => pushPrices || r.aspect !== "price");
    const sum = (list: typeof rows) => list.reduce((t, r) => t + r.n, 0);
    return {
      total: sum(rows),
      bulk: sum(rows.filter((r) => !(r.aspect === "availability" && r.urgent))),
    };
  }

  /**
   * Insert the flush's sync log (triggered) and take it → running, in one D1 batch. Null when the
   * write failed: the push goes ahead without a log rather than not at all.
   */
  private async openSync(
    c: Connection,
    started: number,
    previousAttempts: number,
  ): Promise<string | null> {
    try {
      const { id, statement } = insertSyncLogStatement(
        this.env.DB,
        {
          tenantId: c.tenantId,
          connectionId: c.id,
          syncType: "availability_export",
          direction: "outbound",
          maxRetries: engineConfig(this.env).maxRetries,
          retryCount: previousAttempts,
        },
        started,
      );
      const running = syncTransitionStatement(
        this.env.DB,
        { id },
        ["triggered"],
        "running",
        {},
        this.clock(),
      );
      if (!running) return null;
      const results = await this.env.DB.batch([statement, running]);
      this.liveSyncs.set(id, { startedAt: started, retryCount: previousAttempts });
      this.sql.exec(
        `INSERT OR REPLACE INTO open_syncs (id, started_at) VALUES (?, ?)`,
        id,
        started,
      );
      await confirmSyncTransition(
        this.env.DB,
        { id },
        ["triggered"],
        "running",
        results[1]?.meta.changes ?? 0,
      );
      return id;
    } catch (err) {
      log("error", "gate.sync_log_failed", { error: errorMessage(err) });
      return null;
    }
  }

  /** running → success | failed, with the connection's last success, in one D1 batch. */
  private async closeSync(
    id: string,
    c: Connection,
    finished: number,
    nights: number,
    calls: number,
    failure: unknown,
    note = `${calls} platform call(s)`,
  ): Promise<void> {
    const live = this.liveSyncs.get(id);
    this.liveSyncs.delete(id);
    const to = failure ? "failed" : "success";
    try {
      const statement = syncTransitionStatement(
        this.env.DB,
        { id },
        ["running"],
        to,
        {
          recordsProcessed: nights,
          details: note,
          ...(failure ? { error: errorMessage(failure) } : {}),
        },
        finished,
      );
      if (!statement) return;
      const statements = [statement];
      if (!failure && calls > 0) {
        statements.push(
          this.env.DB.prepare(
            `UPDATE channel_connections SET last_outbound_success_at = ? WHERE id = ?`,
          ).bind(finished, c.id),
        );
      }
      const results = await this.env.DB.batch(statements);
      this.sql.exec(`DELETE FROM open_syncs WHERE id = ?`, id);
      const changes = results[0]?.meta.changes ?? 0;
      if (await confirmSyncTransition(this.env.DB, { id }, ["running"], to, changes)) {
        writeSyncPoint(this.env, {
          tenantId: c.tenantId,
          platform: c.platform,
          direction: "outbound",
          status: to,
          durationMs: finished - (live?.startedAt ?? finished),
          retryCount: live?.retryCount ?? 0,
        });
      }
    } catch (err) {
      log("error", "gate.sync_log_failed", { error: errorMessage(err) });
    }
  }

  /** Sync logs a dead flush left running: running → failed, so none stays open for ever. */
  private async closeInterruptedSyncs(now: number): Promise<void> {
    const stale = this.sql
      .exec<{ id: string }>(`SELECT id FROM open_syncs`)
      .toArray()
      .filter((r) => !this.liveSyncs.has(r.id));
    for (const { id } of stale) {
      try {
        await transitionSyncLog(
          this.env.DB,
          { id },
          ["running"],
          "failed",
          { error: "interrupted: the push was cut off (object evicted or restarted)" },
          now,
        );
        this.sql.exec(`DELETE FROM open_syncs WHERE id = ?`, id);
      } catch (err) {
        log("error", "gate.sync_log_failed", { error: errorMessage(err) });
      }
    }
  }

  /** Push now instead of waiting for the coalescing window (admin "sync now", tests). */
  async flushNow(): Promise<GateStatus> {
    const job = this.sql
      .exec<{ attempts: number }>(`SELECT attempts FROM jobs WHERE name = ?`, FLUSH)
      .toArray()[0];
    try {
      await this.flush(job?.attempts ?? 0);
    } finally {
      // Also after an error: a job the flush (or a mark during it) left must have its alarm.
      await this.armAlarm();
    }
    return this.status();
  }

  async status(): Promise<GateStatus> {
    const rows = this.sql
      .exec<PendingRow>(
        `SELECT room_type_id, night, aspect, seq FROM pending_nights ORDER BY room_type_id, aspect, night`,
      )
      .toArray();
    const grouped = groupBy(rows, (r) => `${r.room_type_id}|${r.aspect}`);
    const settings = this.cachedSettings();
    const now = this.clock();
    const breaker = this.loadBreaker();
    const limiter = this.loadLimiter();
    const limit = settings?.rateLimit ?? { capacity: 0, windowMs: 0, reserve: 0 };
    const inWindow = limiter.spends.filter((s) => s.at > now - limit.windowMs);
    return {
      connectionId: this.getMeta("connection_id"),
      pendingNights: new Set(rows.map((r) => `${r.room_type_id}|${r.night}`)).size,
      pending: [...grouped].map(([key, list]) => ({
        roomTypeId: key.split("|")[0] as string,
        aspect: list[0]?.aspect as NightAspect,
        ranges: coalesceRanges(list.map((r) => ({ start: r.night, end: r.night }))),
      })),
      jobs: this.sql
        .exec<{ name: string; due_at: number; attempts: number }>(
          `SELECT name, due_at, attempts FROM jobs`,
        )
        .toArray()
        .map((j) => ({ name: j.name, dueAt: j.due_at, attempts: j.attempts })),
      lastPushAt: this.numMeta("last_push_at"),
      lastError: this.getMeta("last_error"),
      consecutiveFailures: this.numMeta("consecutive_failures") ?? 0,
      blockedReason: this.getMeta("blocked_reason"),
      circuit: {
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
      },
      rateLimit: {
        capacity: limit.capacity,
        windowMs: limit.windowMs,
        reserved: reserveOf(limit),
        available: settings ? Math.max(0, available(limiter, limit, now, "inbound")) : 0,
        blockedUntil: limiter.blockedUntil > now ? limiter.blockedUntil : null,
        quota:
          limiter.quota && now < limiter.quota.resetsAt
            ? { remaining: limiter.quota.remaining, resetsAt: limiter.quota.resetsAt }
            : null,
        callsInWindow: inWindow.length,
      },
      tokens: { refreshDueAt: await this.tokens.refreshDueAt() },
    };
  }
}

/**
 * The credentials themselves were refused: the token endpoint said no, or a call was refused
 * with 401 again after a fresh token. A 403 (no access to this hotel or listing) is not that.
 */
function credentialsRefusal(err: unknown): err is PlatformError {
  return (
    err instanceof PlatformError &&
    err.kind === "auth" &&
    (err instanceof TokenRefreshError || err.status === 401)
  );
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
