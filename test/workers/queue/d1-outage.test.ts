import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unparkDeadLetters } from "../../../src/jobs/unpark-dead-letters";
import { handleDeadLetterBatch, vaultOf } from "../../../src/queue/dead-letter";
import { handleInboundBatch } from "../../../src/queue/inbound";
import type { InboundMessage } from "../../../src/queue/messages";
import { STORAGE_HORIZON_MS } from "../../../src/queue/storage-deferral";
import { addDaysUtc, eventually, sandbox, seedPortfolio } from "../../support/fixtures";
import { fakeQueue, webhookFor } from "../../support/queue";

/**
 * Nothing accepted is lost when D1 is down. After the edge answered 202 the queue message is the
 * only copy: with D1 failing, the consumer puts it back on the queue for later (no retry spent,
 * no failure recorded), for hours if need be; a dead letter that cannot be stored is parked in
 * the vault and stored once D1 answers. Time is simulated: each message is delivered when its
 * delay says, with the consumer's clock set to that moment.
 */

const DOWN_MS = 10 * 60_000;

/** env.DB that fails every call like D1 does while it is unreachable, until `up()` says so. */
function flakyD1(db: D1Database, up: () => boolean): D1Database {
  // D1 answers after I/O, never synchronously: a promise rejected at once would be reported as
  // unhandled while Drizzle's async layers are still attaching their handler.
  const fail = () =>
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("D1_ERROR: Network connection lost.")), 0),
    );
  const statement = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop) {
        if (prop === "bind") return (...v: unknown[]) => statement(target.bind(...v));
        if (["run", "all", "first", "raw"].includes(String(prop)) && !up()) return fail;
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => statement(target.prepare(sql));
      if (prop === "batch" && !up()) return fail;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

interface Due {
  body: InboundMessage;
  at: number;
  attempts: number;
}

describe("D1 down for 10 minutes", () => {
  it("every webhook accepted meanwhile is imported once, none dead-lettered", async () => {
    const p = await seedPortfolio({ units: 5 });
    const codes: string[] = [];
    const due: Due[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
        "POST",
        "/_sandbox/airbnb/reservations?deliver=none",
        {
          listing_id: p.airbnb.listingId,
          start_date: addDaysUtc(90 + i),
          end_date: addDaysUtc(92 + i),
        },
      );
      codes.push(reservation.confirmation_code);
      due.push({
        body: webhookFor(p.airbnb.listingId, reservation.confirmation_code),
        at: t0,
        attempts: 1,
      });
    }
    let clock = t0;
    const failing = {
      ...env,
      DB: flakyD1(env.DB, () => clock >= t0 + DOWN_MS),
      INBOUND_QUEUE: fakeQueue<InboundMessage>(
        (body, delaySeconds) =>
          void due.push({ body, at: clock + (delaySeconds ?? 0) * 1000, attempts: 1 }),
      ),
      INBOUND_DLQ: fakeQueue(() => {
        throw new Error("nothing may reach the dead-letter queue in this test");
      }),
    };
    let deliveries = 0;
    while (due.length > 0) {
      due.sort((a, b) => a.at - b.at);
      const next = due.shift()!;
      clock = Math.max(clock, next.at);
      let outcome: "acked" | { retry: number } = { retry: -1 };
      const msg = {
        id: crypto.randomUUID(),
        timestamp: new Date(clock),
        attempts: next.attempts,
        body: next.body,
        ack: () => void (outcome = "acked"),
        retry: (o?: { delaySeconds?: number }) => void (outcome = { retry: o?.delaySeconds ?? 0 }),
      };
      await handleInboundBatch(
        { queue: "inbound", messages: [msg], ackAll: () => {}, retryAll: () => {} } as never,
        failing,
        { now: () => clock, fetch: (i, init) => fetch(i, init), random: () => 0 },
      );
      deliveries += 1;
      const done = outcome as "acked" | { retry: number };
      if (done !== "acked") {
        due.push({ ...next, at: clock + done.retry * 1000, attempts: next.attempts + 1 });
      }
      expect(deliveries, "the outage outlived the deliveries").toBeLessThan(200);
    }
    // Each was delivered again and again through the outage, then imported once D1 was back.
    expect(clock - t0).toBeGreaterThanOrEqual(DOWN_MS);
    expect(clock - t0).toBeLessThan(STORAGE_HORIZON_MS);
    const rows = await env.DB.prepare(
      `SELECT channel_booking_id AS code, status FROM bookings
       WHERE channel_booking_id IN (SELECT value FROM json_each(?)) ORDER BY check_in`,
    )
      .bind(JSON.stringify(codes))
      .all<{ code: string; status: string }>();
    expect(rows.results).toEqual(codes.map((code) => ({ code, status: "confirmed" })));
    const events = await env.DB.prepare(
      `SELECT status, attempts FROM channel_events WHERE idempotency_key IN
         (SELECT 'airbnb:' || json_extract(payload, '$.event_id') FROM webhook_log
          WHERE json_extract(payload, '$.confirmation_code') IN (SELECT value FROM json_each(?)))`,
    )
      .bind(JSON.stringify(codes))
      .all<{ status: string; attempts: number }>();
    expect(events.results.map((e) => e.status)).toEqual(Array(5).fill("done"));
    // The outage used no retries: each event's first (and only) recorded attempt imported it.
    expect(events.results.map((e) => e.attempts)).toEqual(Array(5).fill(1));
  });

  it("a dead letter that cannot be stored is parked, never lost, and stored once D1 answers", async () => {
    const p = await seedPortfolio();
    const message = webhookFor(p.airbnb.listingId, "HMPARKED01");
    let acked = 0;
    let retried = 0;
    const msg = {
      id: `dlq-park-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 10,
      body: {
        kind: "dead_letter",
        reason: "retries_exhausted",
        error: "503",
        attempts: 6,
        original: message,
      },
      ack: () => void (acked += 1),
      retry: () => void (retried += 1),
    };
    const down = { ...env, DB: flakyD1(env.DB, () => false) } as Env;
    const before = await vaultOf(env).count();
    await handleDeadLetterBatch(
      { queue: "inbound-dlq", messages: [msg] } as never,
      down,
      "inbound",
    );
    expect([acked, retried]).toEqual([1, 0]);
    expect(await vaultOf(env).count()).toBe(before + 1);
    // D1 still down: the job leaves it parked.
    expect(await unparkDeadLetters(down)).toBe(0);
    // D1 back: the job sends it to its dead-letter queue, whose consumer stores it (once).
    expect(await unparkDeadLetters(env)).toBeGreaterThanOrEqual(1);
    const stored = await eventually(
      () =>
        env.DB.prepare(`SELECT queue, message_id, error FROM dead_letters WHERE message_id = ?`)
          .bind(msg.id)
          .first<{ queue: string; message_id: string; error: string }>(),
      { what: "the parked dead letter stored" },
    );
    expect(stored).toEqual({ queue: "inbound", message_id: msg.id, error: "503" });
    expect(await vaultOf(env).count()).toBe(before);
  });
});
