import { createMessageBatch, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { insertSyncLogStatement, transitionSyncLog } from "../../../src/store/sync-log-transitions";
import { handleDeadLetterBatch } from "../../../src/queue/dead-letter";
import { deliverAttempt, webhookFor } from "../../support/queue";
import {
  addDaysUtc,
  eventually,
  sandbox,
  seedPortfolio,
  setGateSettings,
  uniqueDigits,
} from "../../support/fixtures";

/**
 * The sync log of real work: one log per inbound event through retries to success or the dead
 * letters, one per outbound flush; the Analytics Engine point per finished sync; and the
 * dead-letter threshold alert.
 */

afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
  await sandbox("DELETE", "/_sandbox/booking_com/faults");
});

interface SyncLogRow {
  id: string;
  status: string;
  direction: string;
  retry_count: number;
  max_retries: number;
  records_processed: number;
  error: string | null;
  triggered_at: number;
  started_at: number | null;
  finished_at: number | null;
  deadletter_at: number | null;
  duration_ms: number | null;
}

/** A fake Analytics Engine dataset that keeps what is written to it. */
function fakeDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  const dataset: AnalyticsEngineDataset = { writeDataPoint: (p) => void points.push(p ?? {}) };
  return { points, dataset };
}

const logsOfEvent = async (key: string) =>
  (
    await env.DB.prepare(`SELECT * FROM sync_logs WHERE event_id = ? ORDER BY triggered_at`)
      .bind(key)
      .all<SyncLogRow>()
  ).results;

async function newReservation(listingId: string, day: number) {
  const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
    "POST",
    "/_sandbox/airbnb/reservations?deliver=none",
    { listing_id: listingId, start_date: addDaysUtc(day), end_date: addDaysUtc(day + 1) },
  );
  return reservation.confirmation_code;
}

describe("inbound sync log", () => {
  it("fails n times, then recovers: one log, retrying → running each time, success with retry_count = n", async () => {
    const p = await seedPortfolio();
    const code = await newReservation(p.airbnb.listingId, 20);
    const n = 3;
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: n, fail_status: 503 });
    const message = webhookFor(p.airbnb.listingId, code);
    const key = `airbnb:${message.eventId}`;
    const metrics = fakeDataset();
    const withMetrics = { ...env, METRICS: metrics.dataset } as Env;

    const seen: Array<[string, number]> = [];
    let attempt = 0;
    for (;;) {
      attempt++;
      const out = await deliverAttempt(message, attempt, withMetrics);
      const logs = await logsOfEvent(key);
      expect(logs).toHaveLength(1);
      seen.push([logs[0]!.status, logs[0]!.retry_count]);
      if (out.acked) break;
      expect(out.retryDelay).toBe(2 ** (attempt - 1));
      expect(attempt).toBeLessThan(10);
    }
    expect(attempt).toBe(n + 1);
    expect(seen).toEqual([
      ["retrying", 1],
      ["retrying", 2],
      ["retrying", 3],
      ["success", 3],
    ]);
    const [log] = await logsOfEvent(key);
    expect(log).toMatchObject({
      status: "success",
      direction: "inbound",
      retry_count: n,
      max_retries: 5,
      records_processed: 1,
      error: null,
      deadletter_at: null,
    });
    expect(log!.started_at).toBeGreaterThanOrEqual(log!.triggered_at);
    expect(log!.finished_at).toBeGreaterThanOrEqual(log!.started_at!);
    expect(log!.duration_ms).toBe(log!.finished_at! - log!.started_at!);

    // One Analytics Engine point, for the finished sync (not for the retries).
    expect(metrics.points).toEqual([
      {
        indexes: [p.tenantId],
        blobs: ["airbnb", "success", "inbound"],
        doubles: [expect.any(Number), n],
      },
    ]);
  });

  it("after max retries: failed on the last attempt, still retried into the queue's DLQ, then deadlettered", async () => {
    const p = await seedPortfolio();
    await setGateSettings(p.airbnb.connectionId, { circuit: { failure_threshold: 100 } });
    const code = await newReservation(p.airbnb.listingId, 22);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 100, fail_status: 503 });
    const message = webhookFor(p.airbnb.listingId, code);
    const key = `airbnb:${message.eventId}`;
    for (let attempt = 1; attempt <= 6; attempt++) {
      const out = await deliverAttempt(message, attempt);
      expect(out).toEqual({ acked: false, retryDelay: Math.min(16, 2 ** (attempt - 1)) });
    }
    let [log] = await logsOfEvent(key);
    expect(log).toMatchObject({ status: "failed", retry_count: 5 });
    expect(log!.error).toContain("retries exhausted after 6 attempts");

    const dlq = createMessageBatch("inbound-dlq", [
      { id: `dlq-${uniqueDigits(8)}`, timestamp: Date.now(), attempts: 1, body: message },
    ]);
    await handleDeadLetterBatch(dlq, env, "inbound");
    const logs = await logsOfEvent(key);
    expect(logs).toHaveLength(1);
    log = logs[0];
    expect(log).toMatchObject({ status: "deadlettered", retry_count: 5 });
    expect(log!.deadletter_at).toBeGreaterThanOrEqual(log!.started_at!);
    expect(log!.finished_at).toBe(log!.deadletter_at);
  });

  it("a platform with fewer retries (MAX_RETRIES_AIRBNB) is dead-lettered by the consumer itself", async () => {
    const p = await seedPortfolio();
    const code = await newReservation(p.airbnb.listingId, 24);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 100, fail_status: 503 });
    const message = webhookFor(p.airbnb.listingId, code);
    const key = `airbnb:${message.eventId}`;
    const oneRetry = { ...env, MAX_RETRIES_AIRBNB: "1" } as Env;
    expect(await deliverAttempt(message, 1, oneRetry)).toEqual({ acked: false, retryDelay: 1 });
    // The queue would retry it 5 times; the platform's limit is 1, so it goes to the DLQ now.
    expect(await deliverAttempt(message, 2, oneRetry)).toEqual({ acked: true });
    const [log] = await logsOfEvent(key);
    expect(log).toMatchObject({ max_retries: 1, retry_count: 1 });
    expect(log!.error).toContain("retries exhausted after 2 attempts");
    await eventually(
      async () => (await logsOfEvent(key)).find((l) => l.status === "deadlettered"),
      { what: "sync log dead-lettered" },
    );
  });

  it("a permanent error fails the sync at once; the dead-letter consumer marks it deadlettered", async () => {
    const p = await seedPortfolio();
    // The platform does not know this reservation: 404 will not change on retry.
    const message = webhookFor(p.airbnb.listingId, "HMZZZZ9998");
    const key = `airbnb:${message.eventId}`;
    const out = await deliverAttempt(message, 1);
    expect(out.acked).toBe(true); // handed to the dead-letter queue, not retried
    const log = await eventually(
      async () => (await logsOfEvent(key)).find((l) => l.status === "deadlettered"),
      { what: "sync log dead-lettered" },
    );
    expect(log).toMatchObject({ retry_count: 0 });
    expect(log.error).toContain("404");
    expect(log.deadletter_at).not.toBeNull();
    expect(await logsOfEvent(key)).toHaveLength(1);
  });
});

describe("outbound sync log (ChannelGate flush)", () => {
  /**
   * Put dirty nights straight into the gate's storage, arming no alarm: flushNow is then the only
   * flush (an alarm-driven one could interleave with it and write a log of its own).
   */
  async function dirty(connectionId: string, tenantId: string, roomTypeId: string, day: number) {
    const gate = env.CHANNEL_GATE.getByName(connectionId);
    await runInDurableObject(gate, (_instance, state) => {
      const sql = state.storage.sql;
      for (const [key, value] of [
        ["connection_id", connectionId],
        ["tenant_id", tenantId],
      ]) {
        sql.exec(
          `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
          key,
          value,
        );
      }
      for (const night of [addDaysUtc(day), addDaysUtc(day + 1)]) {
        sql.exec(
          `INSERT OR REPLACE INTO pending_nights (room_type_id, night, aspect, seq, marked_at) VALUES (?, ?, 'availability', 1, ?)`,
          roomTypeId,
          night,
          Date.now(),
        );
      }
    });
    return gate;
  }
  /** A failed flush arms a retry (1-2 s away): drop it, so it cannot add a log while we look. */
  const dropRetry = (gate: DurableObjectStub) =>
    runInDurableObject(gate, (_instance, state) => state.storage.deleteAlarm());
  const outboundLogs = async (connectionId: string) =>
    (
      await env.DB.prepare(
        `SELECT * FROM sync_logs WHERE connection_id = ? AND direction = 'outbound' ORDER BY triggered_at`,
      )
        .bind(connectionId)
        .all<SyncLogRow>()
    ).results;

  it("writes one log per flush: success with the nights pushed, failed with the platform's error", async () => {
    const p = await seedPortfolio();
    const gate = await dirty(p.booking.connectionId, p.tenantId, p.roomTypeId, 4);
    await gate.flushNow();
    let logs = await outboundLogs(p.booking.connectionId);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: "success", records_processed: 2, error: null });
    expect(logs[0]!.started_at).not.toBeNull();
    expect(logs[0]!.duration_ms).toBe(logs[0]!.finished_at! - logs[0]!.started_at!);

    await sandbox("POST", "/_sandbox/booking_com/faults", { fail_next: 1, fail_status: 503 });
    await dirty(p.booking.connectionId, p.tenantId, p.roomTypeId, 8);
    await gate.flushNow();
    await dropRetry(gate);
    logs = await outboundLogs(p.booking.connectionId);
    expect(logs.map((l) => l.status)).toEqual(["success", "failed"]);
    expect(logs[1]!.error).toContain("503");
    expect(logs[1]!.finished_at).not.toBeNull();
  });

  it("fails a sync log a dead flush left running, at the next flush", async () => {
    const p = await seedPortfolio();
    const { id, statement } = insertSyncLogStatement(
      env.DB,
      {
        tenantId: p.tenantId,
        connectionId: p.booking.connectionId,
        syncType: "availability_export",
        direction: "outbound",
        maxRetries: 5,
      },
      Date.now() - 60_000,
    );
    await statement.run();
    await transitionSyncLog(env.DB, { id }, ["triggered"], "running", {}, Date.now() - 59_000);
    const gate = await dirty(p.booking.connectionId, p.tenantId, p.roomTypeId, 12);
    // As if a flush had opened it and the object was then evicted mid-push.
    await runInDurableObject(gate, (_instance, state) => {
      state.storage.sql.exec(
        `INSERT INTO open_syncs (id, started_at) VALUES (?, ?)`,
        id,
        Date.now() - 60_000,
      );
    });
    await gate.flushNow();
    const logs = await outboundLogs(p.booking.connectionId);
    expect(logs.find((l) => l.id === id)).toMatchObject({ status: "failed" });
    expect(logs.find((l) => l.id === id)!.error).toContain("interrupted");
    expect(logs.filter((l) => l.id !== id).map((l) => l.status)).toEqual(["success"]);
  });
});

describe("dead-letter threshold alert", () => {
  async function seedDeadLetter(tenantId: string | null, resolved: boolean) {
    await env.DB.prepare(
      `INSERT INTO dead_letters (id, queue, message_id, tenant_id, body, attempts, created_at, resolved_at)
       VALUES (?, 'inbound', ?, ?, '{}', 6, ?, ?)`,
    )
      .bind(
        `dlq_${uniqueDigits(12)}`,
        `msg-${uniqueDigits(12)}`,
        tenantId,
        Date.now(),
        resolved ? Date.now() : null,
      )
      .run();
  }

  /** An inbound event already resolved to `tenantId`, arriving at the dead-letter consumer. */
  async function deadLetter(tenantId: string, withEnv: Env, messageId?: string) {
    const message = webhookFor("1", "HM1");
    const key = `airbnb:${message.eventId}`;
    await env.DB.prepare(
      `INSERT INTO channel_events (id, tenant_id, platform, direction, event_type, idempotency_key, status,
         attempts, received_at, updated_at)
       VALUES (?, ?, 'airbnb', 'inbound', 'reservation.created', ?, 'retrying', 6, ?, ?)`,
    )
      .bind(`evt_${uniqueDigits(12)}`, tenantId, key, Date.now(), Date.now())
      .run();
    const id = messageId ?? `dlq-${uniqueDigits(10)}`;
    await handleDeadLetterBatch(
      createMessageBatch("inbound-dlq", [
        { id, timestamp: Date.now(), attempts: 1, body: message },
      ]),
      withEnv,
      "inbound",
    );
    return id;
  }

  const thresholdAlert = (tenantId: string) =>
    env.DB.prepare(
      `SELECT tenant_id, severity, occurrences, message FROM alerts WHERE dedupe_key = ?`,
    )
      .bind(`dead_letter_threshold:${tenantId}`)
      .first<{ tenant_id: string; severity: string; occurrences: number; message: string }>();

  it("alerts once a tenant's unresolved dead letters exceed the threshold, deduped per tenant", async () => {
    const withThreshold = { ...env, DEAD_LETTER_ALERT_THRESHOLD: "2" } as Env;
    const a = `ten_dl_${uniqueDigits(8)}`;
    const b = `ten_dl_${uniqueDigits(8)}`;
    await seedDeadLetter(a, false);
    for (let i = 0; i < 3; i++) await seedDeadLetter(a, true); // resolved: not counted
    await seedDeadLetter(b, false);
    await seedDeadLetter(b, false);

    await deadLetter(a, withThreshold); // 2 unresolved: not above 2
    expect(await thresholdAlert(a)).toBeNull();
    await deadLetter(a, withThreshold); // 3
    expect(await thresholdAlert(a)).toMatchObject({
      tenant_id: a,
      severity: "critical",
      occurrences: 1,
    });
    expect((await thresholdAlert(a))!.message).toContain("3 unresolved dead letters");
    const last = await deadLetter(a, withThreshold); // 4: the same alert, bumped
    expect(await thresholdAlert(a)).toMatchObject({ occurrences: 2 });

    // A redelivered dead letter stores nothing new and does not bump it.
    await handleDeadLetterBatch(
      createMessageBatch("inbound-dlq", [
        { id: last, timestamp: Date.now(), attempts: 2, body: webhookFor("1", "HM1") },
      ]),
      withThreshold,
      "inbound",
    );
    expect(await thresholdAlert(a)).toMatchObject({ occurrences: 2 });

    // Tenant b's 2 unresolved (plus a's many) never alert b.
    expect(await thresholdAlert(b)).toBeNull();
  });
});
