import { raiseAlert } from "../../src/store/alerts";
import { CLOSED_BREAKER, permit, type Breaker } from "../../src/domain/circuit-breaker";
import type { GateSettings } from "../../src/domain/gate-settings";
import { waitMs, type LimiterState, type Priority } from "../../src/domain/rate-limiter";
import { errorMessage, log } from "../../src/lib/log";
import type { Connection } from "./connection";
import { addColumn, type GateStorage, type MigrationStep } from "./storage";

const STEPS: readonly MigrationStep[] = [
  (sql) => {
    sql.exec(`CREATE TABLE IF NOT EXISTS rate_spends (
      id TEXT PRIMARY KEY, at INTEGER NOT NULL, cost REAL NOT NULL,
      in_flight INTEGER NOT NULL DEFAULT 0, priority TEXT)`);
    // Builds before these columns created the table without them.
    addColumn(sql, "rate_spends", "in_flight", "INTEGER NOT NULL DEFAULT 0");
    addColumn(sql, "rate_spends", "priority", "TEXT");
  },
];

/**
 * The rate limiter's and the circuit breaker's state (src/domain/rate-limiter.ts and
 * circuit-breaker.ts decide; this part only stores): the calls spent in the window in
 * `rate_spends`, the platform's block and quota and the breaker in meta. Stored, not in memory,
 * so an evicted gate still knows what it spent and that its platform is failing.
 */
export class GateLimits {
  private readonly sql: SqlStorage;

  constructor(
    private readonly storage: GateStorage,
    private readonly db: () => D1Database,
    private readonly clock: () => number,
  ) {
    storage.migrate("limits", STEPS);
    this.sql = storage.sql;
  }

  limiter(): LimiterState {
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
    return {
      spends,
      blockedUntil: this.storage.num("blocked_until") ?? 0,
      quota: this.storage.json<LimiterState["quota"]>("quota"),
    };
  }

  saveLimiter(state: LimiterState): void {
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
    this.storage.set("blocked_until", state.blockedUntil > 0 ? state.blockedUntil : null);
    this.storage.set("quota", state.quota ? JSON.stringify(state.quota) : null);
  }

  breaker(): Breaker {
    return this.storage.json<Breaker>("breaker") ?? CLOSED_BREAKER;
  }

  /** Store the breaker; opening it raises the connection's circuit alert. */
  async saveBreaker(next: Breaker, connection: Connection): Promise<void> {
    const before = this.breaker();
    this.storage.set("breaker", JSON.stringify(next));
    if (before.state === next.state) return;
    log(next.state === "open" ? "warn" : "info", "gate.circuit", {
      connectionId: connection.id,
      from: before.state,
      to: next.state,
    });
    if (next.state === "open") await this.alertOpen(next, connection);
  }

  /** When the next call of this priority could leave, or 0 for now. */
  nextCallAt(settings: GateSettings, priority: Priority): number {
    const now = this.clock();
    const p = permit(this.breaker(), settings.breaker, now);
    if (!p.allowed) return now + p.retryInMs;
    const wait = waitMs(this.limiter(), settings.rateLimit, 1, now, priority);
    return wait > 0 ? now + wait : 0;
  }

  private async alertOpen(next: Breaker, connection: Connection): Promise<void> {
    try {
      await raiseAlert(
        this.db(),
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
