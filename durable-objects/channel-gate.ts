import { DurableObject } from "cloudflare:workers";
import { engineConfig } from "../src/config";
import { coalesceRanges, datesToRanges, expandRanges } from "../src/domain/date-ranges";
import { addDays, localToday, type DateRange, type IsoDate } from "../src/domain/dates";
import { writeSyncPoint } from "../src/domain/metrics";
import {
  confirmSyncTransition,
  insertSyncLogStatement,
  syncTransitionStatement,
  transitionSyncLog,
} from "../src/domain/sync-log-state";
import { errorMessage, log } from "../src/lib/log";
import { getAdapter } from "../src/platforms/registry";
import { connectionConfig } from "../src/domain/connection-config";
import { findConnectionWithTimeZone, type ConnectionRow } from "../src/domain/connections";
import { PlatformError, type NightState } from "../src/platforms/types";
import { backoffSeconds, rateLimitSeconds } from "../src/queue/retry-policy";

export interface MarkDirtyInput {
  tenantId: string;
  connectionId: string;
  roomTypeId: string;
  ranges: DateRange[];
  causeKey: string;
  changedAt: number;
}

export interface GateStatus {
  connectionId: string | null;
  pendingNights: number;
  pending: Array<{ roomTypeId: string; ranges: DateRange[] }>;
  jobs: Array<{ name: string; dueAt: number; attempts: number }>;
  lastPushAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  blockedReason: string | null;
  /** Filled by the circuit breaker (a later step); CLOSED means calls may leave. */
  circuit: { state: "closed" | "open" | "half_open" };
}

type ConnectionForPush = ConnectionRow & { timeZone: string };

interface DirtyRow extends Record<string, SqlStorageValue> {
  room_type_id: string;
  night: string;
  seq: number;
}

const FLUSH = "flush";
const RETRY_CAP_SECONDS = 300;
const PERMANENT_RETRY_SECONDS = 900;
/** How long a running job is considered taken before it is due again. */
const JOB_LEASE_MS = 60_000;

/**
 * One ChannelGate per channel connection (platform × property). It keeps the dirty nights of its
 * connection in SQLite storage and pushes the current state of those nights, read from D1 at push
 * time, through the platform adapter. State, not deltas: duplicates and reordering cannot corrupt
 * the channel. One alarm drives a table of due jobs. Calls are serialised here, which is where the
 * rate limiter and circuit breaker live.
 */
export class ChannelGate extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Injected clock: tests and the bench replace it. */
  clock: () => number = () => Date.now();
  /**
   * Sync logs a flush of this instance is pushing for. One in open_syncs (storage) but not here
   * was left running by a flush that died with its instance (eviction, crash).
   */
  private readonly liveSyncs = new Map<string, { startedAt: number; retryCount: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dirty_nights (
        room_type_id TEXT NOT NULL, night TEXT NOT NULL, seq INTEGER NOT NULL, marked_at INTEGER NOT NULL,
        PRIMARY KEY (room_type_id, night));
      CREATE TABLE IF NOT EXISTS jobs (
        name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS open_syncs (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL);
    `);
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

  /** Record dirty nights (idempotent) and make sure a flush is due. */
  async markDirty(input: MarkDirtyInput): Promise<{ pendingNights: number }> {
    const known = this.getMeta("connection_id");
    if (known && known !== input.connectionId) {
      throw new Error(`gate for ${known} received work for ${input.connectionId}`);
    }
    this.setMeta("connection_id", input.connectionId);
    this.setMeta("tenant_id", input.tenantId);
    const now = this.clock();
    // Loose UTC bounds here; the flush applies the property's local "today".
    const today = new Date(now).toISOString().slice(0, 10);
    const horizon = addDays(today, engineConfig(this.env).syncHorizonDays + 1);
    const seq = Number(this.getMeta("seq") ?? "0") + 1;
    this.setMeta("seq", seq);
    for (const night of expandRanges(input.ranges)) {
      if (night < addDays(today, -1) || night > horizon) continue;
      this.sql.exec(
        `INSERT INTO dirty_nights (room_type_id, night, seq, marked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(room_type_id, night) DO UPDATE SET seq = excluded.seq, marked_at = excluded.marked_at`,
        input.roomTypeId,
        night,
        seq,
        now,
      );
    }
    await this.schedule(FLUSH, now, { resetAttempts: false });
    return { pendingNights: this.pendingCount() };
  }

  private pendingCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM dirty_nights`).one().n;
  }

  /** Make job `name` due at `dueAt` (earlier wins) and arm the alarm for the earliest job. */
  private async schedule(name: string, dueAt: number, opts: { resetAttempts: boolean }) {
    this.sql.exec(
      `INSERT INTO jobs (name, due_at, attempts) VALUES (?, ?, 0)
       ON CONFLICT(name) DO UPDATE SET due_at = MIN(due_at, excluded.due_at)${opts.resetAttempts ? ", attempts = 0" : ""}`,
      name,
      dueAt,
    );
    await this.armAlarm();
  }

  private async armAlarm() {
    const next = this.sql
      .exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM jobs`)
      .one().due;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
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
          now + Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts)) * 1000,
          attempts,
        );
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.armAlarm();
  }

  /** Set a job's next run exactly (unlike schedule(), which only ever brings it forward). */
  private setJob(name: string, dueAt: number, attempts: number): void {
    this.sql.exec(
      `INSERT INTO jobs (name, due_at, attempts) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET due_at = excluded.due_at, attempts = excluded.attempts`,
      name,
      dueAt,
      attempts,
    );
  }

  private block(reason: string): void {
    if (this.getMeta("blocked_reason") !== reason) log("warn", "gate.blocked", { reason });
    this.setMeta("blocked_reason", reason);
  }

  /** Read the truth for these nights from D1 (the ledger, or the room type when untouched). */
  private async readNights(
    roomTypeId: string,
    nights: IsoDate[],
    withPrice: boolean,
  ): Promise<NightState[] | null> {
    const roomType = await this.env.DB.prepare(
      `SELECT units, base_price_minor AS basePriceMinor, currency FROM room_types WHERE id = ?`,
    )
      .bind(roomTypeId)
      .first<{ units: number; basePriceMinor: number | null; currency: string | null }>();
    if (!roomType) return null;
    const ledger = new Map<string, number>();
    for (const r of datesToRanges(nights)) {
      const rows = await this.env.DB.prepare(
        `SELECT night, capacity - booked - blocked AS available FROM inventory_nights
         WHERE room_type_id = ? AND night BETWEEN ? AND ?`,
      )
        .bind(roomTypeId, r.start, r.end)
        .all<{ night: string; available: number }>();
      for (const row of rows.results) ledger.set(row.night, row.available);
    }
    const price =
      withPrice && roomType.basePriceMinor !== null && roomType.currency
        ? { priceMinor: roomType.basePriceMinor, currency: roomType.currency }
        : {};
    return nights.map((date) => ({
      date,
      available: Math.max(0, ledger.get(date) ?? roomType.units),
      ...price,
    }));
  }

  private async flush(previousAttempts: number): Promise<void> {
    const connectionId = this.getMeta("connection_id");
    // Blocked or nothing to do: the job ends here; the next markDirty schedules it again.
    const done = () => void this.sql.exec(`DELETE FROM jobs WHERE name = ?`, FLUSH);
    if (!connectionId) return done();
    const started = this.clock();
    const connection = await findConnectionWithTimeZone(this.env.DB, connectionId);
    if (!connection) {
      // The connection is gone: nothing will ever take these nights.
      this.sql.exec(`DELETE FROM dirty_nights`);
      this.block(`connection ${connectionId} no longer exists`);
      return done();
    }
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
    const today = localToday(connection.timeZone, started);
    this.sql.exec(`DELETE FROM dirty_nights WHERE night < ?`, today);

    const dirty = this.sql
      .exec<DirtyRow>(
        `SELECT room_type_id, night, seq FROM dirty_nights ORDER BY room_type_id, night`,
      )
      .toArray();
    const byRoomType = new Map<string, DirtyRow[]>();
    for (const row of dirty)
      byRoomType.set(row.room_type_id, [...(byRoomType.get(row.room_type_id) ?? []), row]);
    const mappings = await this.env.DB.prepare(
      // A rate plan mapping is keyed here by the room type its rate plan prices.
      `SELECT m.mapping_type AS type, COALESCE(rp.room_type_id, m.internal_id) AS internalId,
              m.external_id AS externalId
       FROM channel_mappings m
       LEFT JOIN rate_plans rp ON m.mapping_type = 'rate_plan' AND rp.id = m.internal_id
       WHERE m.connection_id = ? AND m.deleted_at IS NULL AND m.mapping_type IN ('room_type', 'rate_plan')
       ORDER BY m.created_at`,
    )
      .bind(connectionId)
      .all<{ type: string; internalId: string; externalId: string }>();
    const roomOf = new Map(
      mappings.results
        .filter((m) => m.type === "room_type")
        .map((m) => [m.internalId, m.externalId]),
    );
    const rateOf = new Map(
      mappings.results
        .filter((m) => m.type === "rate_plan")
        .map((m) => [m.internalId, m.externalId]),
    );

    const config = await connectionConfig(this.env, connection);
    let calls = 0;
    let pushed = 0;
    const unmapped: string[] = [];
    let failure: unknown = null;
    await this.closeInterruptedSyncs(started);
    // One outbound sync log per flush that pushes anything: triggered → running before the push.
    const syncId = [...byRoomType.keys()].some((rt) => roomOf.has(rt))
      ? await this.openSync(connection, started, previousAttempts)
      : null;
    try {
      for (const [roomTypeId, rows] of byRoomType) {
        const externalRoomId = roomOf.get(roomTypeId);
        if (!externalRoomId) {
          unmapped.push(roomTypeId);
          continue;
        }
        const nights = await this.readNights(
          roomTypeId,
          rows.map((r) => r.night),
          connection.syncPricing === 1,
        );
        if (!nights) {
          this.sql.exec(`DELETE FROM dirty_nights WHERE room_type_id = ?`, roomTypeId);
          continue;
        }
        const maxSeq = Math.max(...rows.map((r) => r.seq));
        try {
          const result = await adapter.pushAvailability(
            {
              baseUrl: config.baseUrl,
              credentials: config.credentials,
              fetch: (input, init) => fetch(input, init),
              now: this.clock,
              idempotencyKey: `${connectionId}-${roomTypeId}-${maxSeq}`,
            },
            {
              externalPropertyId: connection.externalPropertyId,
              externalRoomId,
              externalRatePlanId: rateOf.get(roomTypeId),
            },
            nights,
          );
          calls += result.calls;
          pushed += result.nights;
          // Only nights not re-marked while the call was in flight are done (seq unchanged).
          for (const r of rows) {
            this.sql.exec(
              `DELETE FROM dirty_nights WHERE room_type_id = ? AND night = ? AND seq = ?`,
              r.room_type_id,
              r.night,
              r.seq,
            );
          }
        } catch (err) {
          failure = err;
          break;
        }
      }
    } catch (err) {
      // Not a platform answer (D1, a bug): the sync log fails with it; the alarm retries the job.
      if (syncId) await this.closeSync(syncId, connection, this.clock(), pushed, calls, err);
      throw err;
    }
    const finished = this.clock();
    if (unmapped.length > 0) this.block(`room types without a mapping: ${unmapped.join(", ")}`);
    else this.setMeta("blocked_reason", null);

    if (syncId) await this.closeSync(syncId, connection, finished, pushed, calls, failure);
    // From here on no await: the job row is settled without a markDirty slipping in between.
    if (failure) {
      const attempts = previousAttempts + 1;
      const delay =
        failure instanceof PlatformError && failure.kind === "rate_limited"
          ? rateLimitSeconds(attempts, failure.retryAfterSeconds)
          : failure instanceof PlatformError && failure.kind === "permanent"
            ? PERMANENT_RETRY_SECONDS
            : Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts));
      this.setMeta("last_error", errorMessage(failure).slice(0, 500));
      this.setMeta("consecutive_failures", attempts);
      this.setJob(FLUSH, finished + delay * 1000, attempts);
      log("warn", "gate.push_failed", {
        connectionId,
        attempts,
        delay,
        error: errorMessage(failure),
      });
      return;
    }
    this.setMeta("consecutive_failures", 0);
    if (pushed > 0) this.setMeta("last_push_at", finished);
    // Marks that arrived during the push are still dirty: go again right away.
    const remaining = this.sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM dirty_nights WHERE room_type_id NOT IN (${unmapped.map(() => "?").join(",") || "''"})`,
        ...unmapped,
      )
      .one().n;
    if (remaining > 0) this.setJob(FLUSH, this.clock(), 0);
    else this.sql.exec(`DELETE FROM jobs WHERE name = ?`, FLUSH);
  }

  /**
   * Insert the flush's sync log (triggered) and take it → running, in one D1 batch. Null when the
   * write failed: the push goes ahead without a log rather than not at all.
   */
  private async openSync(
    c: ConnectionForPush,
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
    c: ConnectionForPush,
    finished: number,
    nights: number,
    calls: number,
    failure: unknown,
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
          details: `${calls} platform call(s)`,
          ...(failure ? { error: errorMessage(failure) } : {}),
        },
        finished,
      );
      if (!statement) return;
      const statements = [statement];
      if (!failure) {
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

  /** Push now instead of waiting for the alarm (admin "sync now", tests). */
  async flushNow(): Promise<GateStatus> {
    await this.flush(0);
    await this.armAlarm();
    return this.status();
  }

  async status(): Promise<GateStatus> {
    const rows = this.sql
      .exec<DirtyRow>(
        `SELECT room_type_id, night, seq FROM dirty_nights ORDER BY room_type_id, night`,
      )
      .toArray();
    const grouped = new Map<string, IsoDate[]>();
    for (const r of rows)
      grouped.set(r.room_type_id, [...(grouped.get(r.room_type_id) ?? []), r.night]);
    const num = (k: string) => {
      const v = this.getMeta(k);
      return v === null ? null : Number(v);
    };
    return {
      connectionId: this.getMeta("connection_id"),
      pendingNights: rows.length,
      pending: [...grouped].map(([roomTypeId, nights]) => ({
        roomTypeId,
        ranges: coalesceRanges(nights.map((n) => ({ start: n, end: n }))),
      })),
      jobs: this.sql
        .exec<{ name: string; due_at: number; attempts: number }>(
          `SELECT name, due_at, attempts FROM jobs`,
        )
        .toArray()
        .map((j) => ({ name: j.name, dueAt: j.due_at, attempts: j.attempts })),
      lastPushAt: num("last_push_at"),
      lastError: this.getMeta("last_error"),
      consecutiveFailures: num("consecutive_failures") ?? 0,
      blockedReason: this.getMeta("blocked_reason"),
      circuit: { state: "closed" },
    };
  }
}
