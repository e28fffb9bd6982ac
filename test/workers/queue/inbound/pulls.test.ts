import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { fakeQueue, messageBatch } from "../../../support/queue";
import { runScheduled } from "../../../../src/jobs/cron";
import { meteredD1, newMeter } from "../../../../src/store/d1-meter";
import { handleInboundBatch } from "../../../../src/queue/inbound";
import type { InboundMessage, PullMessage } from "../../../../src/queue/messages";
import {
  addDaysUtc,
  sandbox,
  seedPortfolio,
  setGateSettings,
  type Portfolio,
} from "../../../support/fixtures";

/**
 * Pulls of a pull platform (Booking.com) at production scale: a quiet pull writes nothing that
 * grows, a held pull is not re-sent every minute, and a pull of hundreds of reservations stays
 * within one invocation's D1 budget.
 */

afterAll(async () => {
  // This file spends Booking.com tokens and calls: leave the sandbox clean for the next.
  await sandbox("POST", "/_sandbox/reset?platform=booking_com");
});

const pullOf = (p: Portfolio, key: string, at = Date.now()): PullMessage => ({
  v: 1,
  kind: "pull",
  platform: "booking_com",
  connectionId: p.booking.connectionId,
  tenantId: p.tenantId,
  key,
  requestedAt: at,
});

/** Consumer runs with the queue captured: what each batch sends instead of enqueuing it. */
function capturingEnv(base: Env = env) {
  const sent: Array<{ body: InboundMessage; delaySeconds?: number }> = [];
  const queue = fakeQueue<InboundMessage>((body, delaySeconds) => {
    sent.push({ body, delaySeconds });
  });
  const captured: Env = { ...base, INBOUND_QUEUE: queue };
  return { env: captured, sent };
}

async function consume(messages: InboundMessage[], withEnv: Env): Promise<string[]> {
  const outcomes: string[] = messages.map(() => "none");
  const batch = messageBatch(
    "inbound",
    messages.map((body, i) => ({
      id: `m-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
      ack: () => void (outcomes[i] = "acked"),
      retry: () => void (outcomes[i] = "retried"),
    })),
  );
  await handleInboundBatch(batch, withEnv);
  return outcomes;
}

const durableRowsOf = async (connectionId: string) => {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM channel_events WHERE connection_id = ?1) AS events,
            (SELECT count(*) FROM sync_logs WHERE connection_id = ?1) AS syncs`,
  )
    .bind(connectionId)
    .first<{ events: number; syncs: number }>();
  return row!;
};

const pullRow = (connectionId: string) =>
  env.DB.prepare(
    `SELECT last_result, consecutive_failures, next_pull_at, last_pull_at FROM connection_pulls WHERE connection_id = ?`,
  )
    .bind(connectionId)
    .first<{
      last_result: string;
      consecutive_failures: number;
      next_pull_at: number;
      last_pull_at: number;
    }>();

describe("pulls", () => {
  it("a pull that imports nothing leaves no event and no sync log, only its connection's pull row", async () => {
    const p = await seedPortfolio();
    const before = await durableRowsOf(p.booking.connectionId);
    for (let minute = 0; minute < 5; minute++) {
      expect(await consume([pullOf(p, `booking_com:pull:quiet:${minute}`)], env)).toEqual([
        "acked",
      ]);
    }
    expect(await durableRowsOf(p.booking.connectionId)).toEqual(before);
    expect(await pullRow(p.booking.connectionId)).toMatchObject({
      last_result: "nothing to import",
      consecutive_failures: 0,
      next_pull_at: 0,
      last_pull_at: expect.any(Number),
    });
    const rows = await env.DB.prepare(
      `SELECT count(*) AS n FROM connection_pulls WHERE connection_id = ?`,
    )
      .bind(p.booking.connectionId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("a held pull is not sent again every minute: over a simulated hour at most one waits", async () => {
    const p = await seedPortfolio();
    // One call an hour: the first pull spends it, every later one is held by the gate.
    await setGateSettings(p.booking.connectionId, {
      rate_limit: { capacity: 1, window_seconds: 3600, reserve: 0 },
    });
    const start = Date.now();
    let enqueued = 0;
    for (let minute = 0; minute < 60; minute++) {
      const cron = capturingEnv();
      const scheduledTime = start + minute * 60_000;
      await runScheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), cron.env);
      const mine = cron.sent.filter(
        (s) => s.body.kind === "pull" && s.body.connectionId === p.booking.connectionId,
      );
      expect(mine.length).toBeLessThanOrEqual(1);
      enqueued += mine.length;
      // Each pull is consumed before the next tick; a held one is acked and not re-sent.
      const consumer = capturingEnv();
      if (mine.length) expect(await consume([mine[0]!.body], consumer.env)).toEqual(["acked"]);
      expect(consumer.sent).toEqual([]);
    }
    // The first pull, and one more that found the hour's call spent: then nothing until it is back.
    expect(enqueued).toBe(2);
    const row = await pullRow(p.booking.connectionId);
    expect(row?.last_result).toMatch(/^held until /);
    expect(row!.next_pull_at).toBeGreaterThan(start + 59 * 60_000);
  });

  it("hints the gate holds do not pile up: each ends superseded by the connection's next pull", async () => {
    const p = await seedPortfolio();
    await setGateSettings(p.booking.connectionId, {
      rate_limit: { capacity: 1, window_seconds: 3600, reserve: 0 },
    });
    // The hour's one call goes to a pull; every hint after it finds the gate holding calls.
    expect(await consume([pullOf(p, "booking_com:pull:hints:0")], env)).toEqual(["acked"]);
    const hints: InboundMessage[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { reservation, deliveries } = await sandbox<{
        reservation: { reservation_id: string };
        deliveries: Array<{ body: string }>;
      }>("POST", "/_sandbox/booking_com/reservations?deliver=none", {
        hotel_id: p.booking.hotelId,
        room_id: p.booking.roomId,
        start_date: addDaysUtc(20 + i),
        end_date: addDaysUtc(21 + i),
      });
      codes.push(reservation.reservation_id);
      const hook = JSON.parse(deliveries[0]!.body) as { event_id: string; event_type: string };
      hints.push({
        v: 1,
        kind: "webhook",
        platform: "booking_com",
        eventId: hook.event_id,
        eventType: hook.event_type,
        receivedAt: Date.now(),
        signature: null,
        bodyB64: btoa(deliveries[0]!.body),
      });
    }
    const held = capturingEnv();
    expect(await consume(hints, held.env)).toEqual(["acked", "acked", "acked"]);
    // Nothing goes back on the queue to wake together later.
    expect(held.sent).toEqual([]);
    const { results } = await env.DB.prepare(
      `SELECT status, outcome FROM channel_events WHERE connection_id = ? AND event_type != 'reservations.pull'`,
    )
      .bind(p.booking.connectionId)
      .all<{ status: string; outcome: string }>();
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.status).toBe("ignored");
      expect(r.outcome).toMatch(
        /^held until .*: the connection's next pull imports what is pending$/,
      );
    }
    // Once the gate can call, one pull imports every reservation the hints were about.
    await setGateSettings(p.booking.connectionId, null);
    expect(await consume([pullOf(p, "booking_com:pull:hints:1")], env)).toEqual(["acked"]);
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE channel_booking_id IN (SELECT value FROM json_each(?))`,
    )
      .bind(JSON.stringify(codes))
      .first<{ n: number }>();
    expect(stored?.n).toBe(3);
  });

  it("a pull of 300 reservations stays within one invocation's 1,000 D1 calls, and imports each once", async () => {
    const p = await seedPortfolio({ units: 1 });
    await sandbox(
      "PUT",
      `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}`,
      {
        units: 1,
        rate_plan_id: p.booking.ratePlanId,
      },
    );
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const { reservation } = await sandbox<{ reservation: { reservation_id: string } }>(
        "POST",
        "/_sandbox/booking_com/reservations?deliver=none",
        {
          hotel_id: p.booking.hotelId,
          room_id: p.booking.roomId,
          start_date: addDaysUtc(2 + i),
          end_date: addDaysUtc(3 + i),
        },
      );
      ids.push(reservation.reservation_id);
    }
    const meter = newMeter();
    const metered = capturingEnv({ ...env, DB: meteredD1(env.DB, meter) } as Env);
    expect(await consume([pullOf(p, "booking_com:pull:big:1")], metered.env)).toEqual(["acked"]);
    // Alone in its batch, the pull has the whole budget: all 300 in one invocation.
    expect(meter.calls).toBeLessThanOrEqual(1000);
    expect(meter.calls).toBeLessThan(300 + 20);
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE source = 'booking_com' AND status = 'confirmed'
         AND channel_booking_id IN (SELECT value FROM json_each(?))`,
    )
      .bind(JSON.stringify(ids))
      .first<{ n: number }>();
    expect(stored?.n).toBe(300);
    expect(metered.sent).toEqual([]);
  }, 120_000);

  it("in a full batch, a large pull stores what its share allows and goes on in a follow-up pull", async () => {
    const p = await seedPortfolio({ units: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      const { reservation } = await sandbox<{ reservation: { reservation_id: string } }>(
        "POST",
        "/_sandbox/booking_com/reservations?deliver=none",
        {
          hotel_id: p.booking.hotelId,
          room_id: p.booking.roomId,
          start_date: addDaysUtc(2 + i),
          end_date: addDaysUtc(3 + i),
        },
      );
      ids.push(reservation.reservation_id);
    }
    const quiet = await Promise.all(Array.from({ length: 9 }, () => seedPortfolio()));
    const meter = newMeter();
    const metered = capturingEnv({ ...env, DB: meteredD1(env.DB, meter) } as Env);
    const batch = [
      pullOf(p, "booking_com:pull:share:1"),
      ...quiet.map((q, i) => pullOf(q, `booking_com:pull:share:q${i}`)),
    ];
    expect(await consume(batch, metered.env)).toEqual(Array(10).fill("acked"));
    expect(meter.calls).toBeLessThanOrEqual(1000);
    const follow = metered.sent.filter((s) => s.body.kind === "pull");
    expect(follow).toHaveLength(1);
    expect(follow[0]!.body).toMatchObject({ kind: "pull", connectionId: p.booking.connectionId });
    // The follow-up finishes the rest, and nothing is imported twice.
    const rest = capturingEnv();
    expect(await consume([follow[0]!.body], rest.env)).toEqual(["acked"]);
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE channel_booking_id IN (SELECT value FROM json_each(?))`,
    )
      .bind(JSON.stringify(ids))
      .first<{ n: number }>();
    expect(stored?.n).toBe(120);
  }, 120_000);
});
