import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleInboundBatch } from "../../../../src/queue/inbound";
import type { WebhookMessage } from "../../../../src/queue/messages";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  type Delivery,
} from "../../../support/fixtures";
import { webhookFor } from "../../../support/queue";

/**
 * The duplicates counter is exact: every copy of an event the edge accepted counts once, wherever
 * it is caught — by the lease while the first copy is still being processed, or after the event
 * is done — and a queue redelivery of the same copy, or an operator's replay, never counts.
 */

interface Copy {
  message: WebhookMessage;
  attempts: number;
  id: string;
}

/** One batch through the real consumer, its copies processed concurrently. */
async function batch(...copies: Copy[]): Promise<Array<"acked" | "retried">> {
  const outcomes: Array<"acked" | "retried"> = copies.map(() => "retried");
  const messages = copies.map((c, i) => ({
    id: c.id,
    timestamp: new Date(),
    attempts: c.attempts,
    body: c.message,
    ack: () => void (outcomes[i] = "acked"),
    retry: () => void (outcomes[i] = "retried"),
  }));
  await handleInboundBatch(
    { queue: "inbound", messages, ackAll: () => {}, retryAll: () => {} } as never,
    env,
  );
  return outcomes;
}

const duplicatesOf = async (key: string) =>
  (await env.DB.prepare(`SELECT status, duplicates FROM channel_events WHERE idempotency_key = ?`)
    .bind(key)
    .first<{ status: string; duplicates: number }>()) ?? null;

describe("duplicate deliveries", () => {
  it("counts each accepted copy once: lease-held, after done; never a redelivery or a replay", async () => {
    const p = await seedPortfolio();
    const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(60), end_date: addDaysUtc(62) },
    );
    const base = webhookFor(p.airbnb.listingId, reservation.confirmation_code);
    const copy = (deliveryId: string | undefined, attempts: number, id: string): Copy => ({
      message: { ...base, ...(deliveryId ? { deliveryId } : {}) },
      attempts,
      id,
    });
    const key = `airbnb:${base.eventId}`;

    // Copies A and B arrive together: A takes the lease, B is held by it and comes back later.
    expect(await batch(copy("dlv-a", 1, "m-a"), copy("dlv-b", 1, "m-b"))).toEqual([
      "acked",
      "retried",
    ]);
    expect(await duplicatesOf(key)).toEqual({ status: "done", duplicates: 1 });
    // B's redelivery finds the event done: the same copy, not counted again.
    expect(await batch(copy("dlv-b", 2, "m-b"))).toEqual(["acked"]);
    // A third copy after the event is done counts; A's own redelivery (ack lost) does not.
    expect(await batch(copy("dlv-c", 1, "m-c"), copy("dlv-a", 2, "m-a"))).toEqual([
      "acked",
      "acked",
    ]);
    // An engine or operator replay is no delivery at all.
    expect(await batch(copy(undefined, 1, "m-replay"))).toEqual(["acked"]);
    expect(await duplicatesOf(key)).toEqual({ status: "done", duplicates: 2 });
    const bookings = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE channel_booking_id = ?`,
    )
      .bind(reservation.confirmation_code)
      .first<{ n: number }>();
    expect(bookings?.n).toBe(1);
  });

  it("with the sandbox delivering every webhook twice, each of three bookings shows one duplicate", async () => {
    const p = await seedPortfolio({ units: 3 });
    await sandbox("POST", "/_sandbox/airbnb/faults", { duplicate_webhooks: true });
    try {
      const codes: string[] = [];
      const sends: Promise<Response>[] = [];
      for (let i = 0; i < 3; i++) {
        const { reservation, deliveries } = await sandbox<{
          reservation: { confirmation_code: string };
          deliveries: Delivery[];
        }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
          listing_id: p.airbnb.listingId,
          start_date: addDaysUtc(70 + i),
          end_date: addDaysUtc(71 + i),
        });
        expect(deliveries).toHaveLength(2);
        codes.push(reservation.confirmation_code);
        // Both copies at once, through the edge and the real queue.
        sends.push(...deliveries.map((d) => deliver(d)));
      }
      expect((await Promise.all(sends)).map((r) => r.status)).toEqual(Array(6).fill(202));
      const rows = await eventually(
        async () => {
          const { results } = await env.DB.prepare(
            `SELECT e.duplicates FROM channel_events e WHERE e.platform = 'airbnb' AND e.status = 'done'
               AND e.idempotency_key IN (SELECT 'airbnb:' || json_extract(w.payload, '$.event_id')
                 FROM webhook_log w WHERE json_extract(w.payload, '$.confirmation_code') IN (?, ?, ?))`,
          )
            .bind(...codes)
            .all<{ duplicates: number }>();
          return results.length === 3 && results.every((r) => r.duplicates === 1) ? results : null;
        },
        { what: "three events done, one duplicate each" },
      );
      expect(rows.map((r) => r.duplicates)).toEqual([1, 1, 1]);
    } finally {
      await sandbox("DELETE", "/_sandbox/airbnb/faults");
    }
  });
});
