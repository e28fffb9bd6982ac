import { errorMessage, log } from "../../src/lib/log";
import { backoffSeconds } from "../../src/queue/retry-policy";
import type { GateStorage, MigrationStep } from "./storage";

/** Runs a due job; `attempts` counts its failures since it last succeeded. */
export type JobHandler = (attempts: number) => Promise<void>;

export interface Job {
  name: string;
  dueAt: number;
  attempts: number;
}

/** How long a running job is considered taken before it is due again. */
const JOB_LEASE_MS = 60_000;
const RETRY_CAP_SECONDS = 300;

const STEPS: readonly MigrationStep[] = [
  (sql) =>
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)`),
];

/**
 * The gate's due work, by name, and its one alarm: the alarm is always armed for the earliest
 * due job, so work survives eviction and nothing else sets an alarm. A job is dispatched to the
 * handler registered under its name; a row whose name no handler claims is a bug (or a newer
 * build's job), so it fails loudly and is kept, retried with backoff, rather than dropped.
 */
export class GateJobs {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly sql: SqlStorage;

  constructor(
    storage: GateStorage,
    private readonly alarms: Pick<DurableObjectStorage, "getAlarm" | "setAlarm" | "deleteAlarm">,
    private readonly clock: () => number,
  ) {
    storage.migrate("jobs", STEPS);
    this.sql = storage.sql;
  }

  register(name: string, handler: JobHandler): void {
    if (this.handlers.has(name)) throw new Error(`gate job ${name} is registered twice`);
    this.handlers.set(name, handler);
  }

  get(name: string): Job | null {
    const row = this.sql
      .exec<{ due_at: number; attempts: number }>(
        `SELECT due_at, attempts FROM jobs WHERE name = ?`,
        name,
      )
      .toArray()[0];
    return row ? { name, dueAt: row.due_at, attempts: row.attempts } : null;
  }

  list(): Job[] {
    return this.sql
      .exec<{ name: string; due_at: number; attempts: number }>(
        `SELECT name, due_at, attempts FROM jobs`,
      )
      .toArray()
      .map((j) => ({ name: j.name, dueAt: j.due_at, attempts: j.attempts }));
  }

  /** Set a job's next run exactly. */
  set(name: string, dueAt: number, attempts: number): void {
    this.sql.exec(
      `INSERT INTO jobs (name, due_at, attempts) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET due_at = excluded.due_at, attempts = excluded.attempts`,
      name,
      dueAt,
      attempts,
    );
  }

  delete(name: string): void {
    this.sql.exec(`DELETE FROM jobs WHERE name = ?`, name);
  }

  /** Arm the alarm for the earliest due job, or clear it when none is left. */
  async arm(): Promise<void> {
    const next = this.sql
      .exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM jobs`)
      .one().due;
    if (next === null) {
      await this.alarms.deleteAlarm();
      return;
    }
    const current = await this.alarms.getAlarm();
    if (current !== next) await this.alarms.setAlarm(next);
  }

  /** The alarm: run every due job by name, then arm for what is left. */
  async runDue(): Promise<void> {
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
        const handler = this.handlers.get(job.name);
        if (!handler) throw new Error(`no handler is registered for gate job "${job.name}"`);
        await handler(job.attempts);
      } catch (err) {
        const attempts = job.attempts + 1;
        log("error", "gate.job_failed", { job: job.name, attempts, error: errorMessage(err) });
        this.set(
          job.name,
          this.clock() + Math.min(RETRY_CAP_SECONDS, backoffSeconds(attempts)) * 1000,
          attempts,
        );
      }
    }
    await this.arm();
  }
}
