import { DurableObject } from "cloudflare:workers";

/**
 * The last resort for dead letters while D1 is down. A dead-letter consumer stores each message's
 * context in D1; when it cannot, a retry would only delete the message after the queue's last
 * one. Instead the message is parked here — Durable Object storage does not depend on D1 — and
 * acked. The `unpark-dead-letters` cron job sends parked messages back to their dead-letter queue
 * once D1 answers again, where they are stored like any other (idempotent by message id).
 *
 * One instance (`getByName("vault")`): it only ever holds what arrives during a D1 outage.
 */

export interface ParkedLetter {
  id: number;
  queue: "inbound" | "outbound";
  messageId: string;
  /** The message body exactly as the dead-letter queue delivered it (JSON). */
  body: string;
  parkedAt: number;
}

/** A taken letter not removed by then (the job died) is handed out again. */
const TAKE_LEASE_MS = 5 * 60_000;

export class DeadLetterVault extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS parked (
        id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT NOT NULL,
        body TEXT NOT NULL, parked_at INTEGER NOT NULL, taken_until INTEGER NOT NULL DEFAULT 0,
        UNIQUE (queue, message_id));
    `);
  }

  /** Keep a message (once per queue and message id); answers how many are parked. */
  park(letter: Omit<ParkedLetter, "id" | "parkedAt">): number {
    this.sql.exec(
      `INSERT INTO parked (queue, message_id, body, parked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (queue, message_id) DO NOTHING`,
      letter.queue,
      letter.messageId,
      letter.body,
      this.clock(),
    );
    return this.count();
  }

  /** Up to `limit` parked letters not taken by another run, leased to this one. */
  take(limit: number): ParkedLetter[] {
    const now = this.clock();
    const rows = this.sql
      .exec<{ id: number; queue: string; message_id: string; body: string; parked_at: number }>(
        `SELECT id, queue, message_id, body, parked_at FROM parked WHERE taken_until <= ?
         ORDER BY id LIMIT ?`,
        now,
        limit,
      )
      .toArray();
    for (const r of rows) {
      this.sql.exec(`UPDATE parked SET taken_until = ? WHERE id = ?`, now + TAKE_LEASE_MS, r.id);
    }
    return rows.map((r) => ({
      id: r.id,
      queue: r.queue === "outbound" ? "outbound" : "inbound",
      messageId: r.message_id,
      body: r.body,
      parkedAt: r.parked_at,
    }));
  }

  /** Letters back on their queue: forget them. */
  remove(ids: number[]): void {
    for (const id of ids) this.sql.exec(`DELETE FROM parked WHERE id = ?`, id);
  }

  count(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM parked`).one().n;
  }
}
