import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { handleDeadLetterBatch } from "../../../../src/queue/dead-letter";
import { deliverAttempt, fakeQueue, webhookFor } from "../../../support/queue";
import {
  addDaysUtc,
  eventually,
  sandbox,
  seedPortfolio,
  setGateSettings,
} from "../../../support/fixtures";

afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
});

describe("retries and dead letters", () => {
  it("retries a transient platform failure with growing delays, never acking it", async () => {
    const p = await seedPortfolio();
    // About the backoff schedule: the breaker (which would hold the 6th attempt) stays closed.
    await setGateSettings(p.airbnb.connectionId, { circuit: { failure_threshold: 100 } });
    const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(5), end_date: addDaysUtc(6) },
    );
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 100, fail_status: 503 });
    const message = webhookFor(p.airbnb.listingId, reservation.confirmation_code);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const result = await deliverAttempt(message, attempt);
      expect(result.acked).toBe(false);
      delays.push(result.retryDelay!);
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 16]);

    // After max_retries the queue moves the message to inbound-dlq; its consumer stores the context.
    const dlq = createMessageBatch("inbound-dlq", [
      { id: "dlq-1", timestamp: Date.now(), attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await handleDeadLetterBatch(dlq, env, "inbound");
    expect((await getQueueResult(dlq, ctx)).explicitAcks).toEqual(["dlq-1"]);

    const key = `airbnb:${message.eventId}`;
    const dead = await env.DB.prepare(`SELECT * FROM dead_letters WHERE idempotency_key = ?`)
      .bind(key)
      .first<Record<string, any>>();
    expect(dead).toMatchObject({
      queue: "inbound",
      platform: "airbnb",
      tenant_id: p.tenantId,
      connection_id: p.airbnb.connectionId,
      attempts: 6,
    });
    expect(JSON.parse(dead!.body)).toMatchObject({ eventId: message.eventId });
    const attemptLog = JSON.parse(dead!.attempt_log) as Array<{ attempt: number; error: string }>;
    expect(attemptLog.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(attemptLog[0]!.error).toContain("503");
    const event = await env.DB.prepare(
      `SELECT status FROM channel_events WHERE idempotency_key = ?`,
    )
      .bind(key)
      .first();
    expect(event).toEqual({ status: "failed" });
    const log = await env.DB.prepare(`SELECT status FROM webhook_log WHERE id = ?`)
      .bind(key)
      .first();
    expect(log).toEqual({ status: "failed" });
    const alert = await env.DB.prepare(`SELECT kind FROM alerts WHERE dedupe_key = ?`)
      .bind(`dead_letter:inbound:${key}`)
      .first();
    expect(alert).toEqual({ kind: "dead_letter" });
  });

  it("once the breaker opens, the event is held until it half-opens, using no retry and calling nobody", async () => {
    const p = await seedPortfolio();
    const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(9), end_date: addDaysUtc(10) },
    );
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 100, fail_status: 503 });
    const message = webhookFor(p.airbnb.listingId, reservation.confirmation_code);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      delays.push((await deliverAttempt(message, attempt)).retryDelay!);
    }
    expect(delays).toEqual([1, 2, 4, 8, 16]);
    const calls = async () =>
      (
        await sandbox<{ requests: Array<{ path: string }> }>(
          "GET",
          "/_sandbox/airbnb/requests?limit=200",
        )
      ).requests.filter((r) => r.path.includes(reservation.confirmation_code)).length;
    const before = await calls();
    // Five consecutive 503s opened the circuit. The 6th attempt is no failure: the event goes
    // back on the queue as a new message, delayed until the circuit half-opens (60 s).
    const sent: Array<{ body: Record<string, unknown>; delaySeconds?: number }> = [];
    const recording: Env = {
      ...env,
      INBOUND_QUEUE: fakeQueue<Record<string, unknown>>((body, delaySeconds) => {
        sent.push({ body, delaySeconds });
      }),
    };
    const sixth = await deliverAttempt(message, 6, recording);
    expect(sixth).toEqual({ acked: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ eventId: message.eventId, deferrals: 1 });
    expect(sent[0]!.delaySeconds).toBeGreaterThanOrEqual(55);
    expect(sent[0]!.delaySeconds).toBeLessThanOrEqual(60);
    expect(await calls()).toBe(before);
    const event = await env.DB.prepare(
      `SELECT status FROM channel_events WHERE idempotency_key = ?`,
    )
      .bind(`airbnb:${message.eventId}`)
      .first();
    expect(event).toEqual({ status: "retrying" });

    // Held past a day, it is a failure like any other (and may dead-letter).
    const stale = { ...message, receivedAt: Date.now() - 25 * 3_600_000 };
    const late = await deliverAttempt(stale, 7, recording);
    expect(late.acked).toBe(false);
    expect(sent).toHaveLength(1);
  });

  it("honours Retry-After from a 429", async () => {
    const p = await seedPortfolio();
    const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(7), end_date: addDaysUtc(8) },
    );
    await sandbox("POST", "/_sandbox/airbnb/faults", { rate_limit_next: 1, retry_after: 42 });
    const result = await deliverAttempt(
      webhookFor(p.airbnb.listingId, reservation.confirmation_code),
      1,
    );
    expect(result).toEqual({ acked: false, retryDelay: 42 });
  });

  it("sends a permanent failure straight to the dead-letter queue, where it is stored", async () => {
    const p = await seedPortfolio();
    // A webhook for a reservation the platform does not know: 404 will not change on retry.
    const message = webhookFor(p.airbnb.listingId, "HMZZZZ9999");
    await env.INBOUND_QUEUE.send(message, { contentType: "json" });
    const key = `airbnb:${message.eventId}`;
    const dead = await eventually(
      () =>
        env.DB.prepare(`SELECT error, attempts FROM dead_letters WHERE idempotency_key = ?`)
          .bind(key)
          .first<{ error: string; attempts: number }>(),
      { what: "dead letter stored" },
    );
    expect(dead.attempts).toBe(1);
    expect(dead.error).toContain("404");
  });
});
