import { engineConfig } from "../../src/config";
import { writeSyncPoint } from "../../src/lib/metrics";
import {
  confirmSyncTransition,
  insertSyncLogStatement,
  syncTransitionStatement,
  transitionSyncLog,
} from "../../src/store/sync-log-transitions";
import { errorMessage, log } from "../../src/lib/log";
import { outboundSucceededStatement } from "../../src/store/gate";
import type { Connection } from "./connection";
import type { GateStorage, MigrationStep } from "./storage";

const STEPS: readonly MigrationStep[] = [
  (sql) =>
    sql.exec(
      `CREATE TABLE IF NOT EXISTS open_syncs (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL)`,
    ),
];

/** How a flush's requests ended, for its sync log. */
export interface SyncClose {
  nights: number;
  calls: number;
  failure: unknown;
  note?: string;
}

/**
 * The outbound sync log of each flush that sends something (D1 `sync_logs`). The ids of the logs
 * this gate opened live in `open_syncs` until closed, so a log a dead flush (eviction, restart)
 * left running is failed by the next flush instead of staying open for ever. Log writes never
 * stop a push: a failed write is logged and the push goes on.
 */
export class GateSyncLog {
  private readonly sql: SqlStorage;
  /** Sync logs a flush of this instance is pushing for (see closeInterrupted). */
  private readonly live = new Map<string, { startedAt: number; retryCount: number }>();

  constructor(
    storage: GateStorage,
    private readonly env: () => Env,
    private readonly clock: () => number,
  ) {
    storage.migrate("sync_log", STEPS);
    this.sql = storage.sql;
  }

  /**
   * Insert the flush's sync log (triggered) and take it → running, in one D1 batch. Null when the
   * write failed: the push goes ahead without a log rather than not at all.
   */
  async open(c: Connection, started: number, previousAttempts: number): Promise<string | null> {
    const env = this.env();
    try {
      const { id, statement } = insertSyncLogStatement(
        env.DB,
        {
          tenantId: c.tenantId,
          connectionId: c.id,
          syncType: "availability_export",
          direction: "outbound",
          maxRetries: engineConfig(env).maxRetries,
          retryCount: previousAttempts,
        },
        started,
      );
      const running = syncTransitionStatement(
        env.DB,
        { id },
        ["triggered"],
        "running",
        {},
        this.clock(),
      );
      if (!running) return null;
      const results = await env.DB.batch([statement, running]);
      this.live.set(id, { startedAt: started, retryCount: previousAttempts });
      this.sql.exec(
        `INSERT OR REPLACE INTO open_syncs (id, started_at) VALUES (?, ?)`,
        id,
        started,
      );
      const changes = results[1]?.meta.changes ?? 0;
      await confirmSyncTransition(env.DB, { id }, ["triggered"], "running", changes);
      return id;
    } catch (err) {
      log("error", "gate.sync_log_failed", { error: errorMessage(err) });
      return null;
    }
  }

  /** running → success | failed, with the connection's last success, in one D1 batch. */
  async close(id: string, c: Connection, finished: number, end: SyncClose): Promise<void> {
    const live = this.live.get(id);
    this.live.delete(id);
    const to = end.failure ? "failed" : "success";
    const env = this.env();
    try {
      const statement = syncTransitionStatement(
        env.DB,
        { id },
        ["running"],
        to,
        {
          recordsProcessed: end.nights,
          details: end.note ?? `${end.calls} platform call(s)`,
          ...(end.failure ? { error: errorMessage(end.failure) } : {}),
        },
        finished,
      );
      if (!statement) return;
      const statements = [statement];
      if (!end.failure && end.calls > 0) {
        statements.push(outboundSucceededStatement(env.DB, c.id, finished));
      }
      const results = await env.DB.batch(statements);
      this.sql.exec(`DELETE FROM open_syncs WHERE id = ?`, id);
      const changes = results[0]?.meta.changes ?? 0;
      if (await confirmSyncTransition(env.DB, { id }, ["running"], to, changes)) {
        writeSyncPoint(env, {
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
  async closeInterrupted(now: number): Promise<void> {
    const stale = this.sql
      .exec<{ id: string }>(`SELECT id FROM open_syncs`)
      .toArray()
      .filter((r) => !this.live.has(r.id));
    for (const { id } of stale) {
      try {
        await transitionSyncLog(
          this.env().DB,
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
}
