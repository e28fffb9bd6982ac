import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { messageBatch } from "../../support/queue";
import { bytesToBase64 } from "../../../src/lib/encoding";
import { handleInboundBatch } from "../../../src/queue/inbound";
import type { WebhookMessage } from "../../../src/queue/messages";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  type Delivery,
  type Portfolio,
} from "../../support/fixtures";
import { expectApi, tokenFor, type Json } from "./operator-fixtures";

/**
 * Replay and retry against the Airbnb sandbox, through the real inbound queue and consumer:
 * replaying an applied event twice applies it once (and it stays `done`, the event that made it); an event that failed while the sandbox was
 * down is imported once it heals and an operator retries it.
 */

afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
});

async function newReservation(p: Portfolio, from: number, to: number) {
  const { reservation, deliveries } = await sandbox<{
    reservation: { confirmation_code: string };
    deliveries: Delivery[];
  }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
    listing_id: p.airbnb.listingId,
    start_date: addDaysUtc(from),
    end_date: addDaysUtc(to),
    guest_name: "Ada Lovelace",
  });
  const delivery = deliveries[0]!;
  const hook = JSON.parse(delivery.body) as { event_id: string; event_type: string };
  return { code: reservation.confirmation_code, delivery, hook, key: `airbnb:${hook.event_id}` };
}

const bookingsOf = async (code: string) =>
  (
    await env.DB.prepare(`SELECT id, status FROM bookings WHERE channel_booking_id = ?`)
      .bind(code)
      .all<{ id: string; status: string }>()
  ).results;

async function eventByKey(admin: string, key: string): Promise<Json> {
  const page = await expectApi(200, "GET", "/api/v1/events?platform=airbnb&limit=200", admin);
  const found = (page.data as Json[]).find((e) => e.idempotency_key === key);
  if (!found) throw new Error(`event ${key} not listed`);
  return found;
}

const getEvent = (admin: string, id: string) =>
  expectApi(200, "GET", `/api/v1/events/${id}`, admin);

describe("replay and retry through the sandbox", () => {
  it("replaying an applied event twice applies it once", async () => {
    const p = await seedPortfolio();
    const admin = await tokenFor(p.tenantId);
    const r = await newReservation(p, 40, 43);
    expect((await deliver(r.delivery)).status).toBe(202);
    await eventually(async () => (await bookingsOf(r.code))[0]?.status === "confirmed", {
      what: "booking confirmed",
    });
    const event = await eventByKey(admin, r.key);
    await eventually(async () => (await getEvent(admin, event.id as string)).status === "done", {
      what: "event done",
    });

    for (let replay = 1; replay <= 2; replay++) {
      const queued = await expectApi(202, "POST", `/api/v1/events/${event.id}/replay`, admin);
      expect(queued).toMatchObject({ status: "received", attempts: 0 });
      // The consumer fetches the reservation again; the same revision changes nothing, and the
      // event stays what it is: the one that created the booking, a note saying so.
      const after = await eventually(
        async () => {
          const e = await getEvent(admin, event.id as string);
          return e.status !== "received" && e.status !== "processing" ? e : null;
        },
        { what: `replay ${replay} processed` },
      );
      expect(after).toMatchObject({ status: "done", attempts: 1, outcome: `${r.code}: created` });
      expect(after.changes).toEqual([
        expect.objectContaining({ channel_booking_id: r.code, outcome: "created" }),
      ]);
      expect(after.attempt_log.at(-1)).toMatchObject({
        attempt: 1,
        error: null,
        note: expect.stringContaining("an earlier attempt applied these changes"),
      });
    }

    const bookings = await bookingsOf(r.code);
    expect(bookings).toEqual([{ id: expect.any(String), status: "confirmed" }]);
    const held = await env.DB.prepare(
      `SELECT night FROM booking_nights WHERE booking_id = ? ORDER BY night`,
    )
      .bind(bookings[0]!.id)
      .all<{ night: string }>();
    expect(held.results.map((n) => n.night)).toEqual([
      addDaysUtc(40),
      addDaysUtc(41),
      addDaysUtc(42),
    ]);
    const inventory = await env.DB.prepare(
      `SELECT night, booked FROM inventory_nights WHERE room_type_id = ? AND night >= ? AND night < ? ORDER BY night`,
    )
      .bind(p.roomTypeId, addDaysUtc(40), addDaysUtc(43))
      .all<{ night: string; booked: number }>();
    expect(inventory.results.map((n) => n.booked)).toEqual([1, 1, 1]);
    // The first import and each replay are a sync of their own, all successful.
    const syncs = await expectApi(
      200,
      "GET",
      `/api/v1/sync-logs?connection_id=${p.airbnb.connectionId}&direction=inbound`,
      admin,
    );
    expect((syncs.data as Json[]).filter((s) => s.event_id === r.key).map((s) => s.status)).toEqual(
      ["success", "success", "success"],
    );
  });

  it("an event that failed while the sandbox was down is imported once it heals and is retried", async () => {
    const p = await seedPortfolio();
    const admin = await tokenFor(p.tenantId);
    const r = await newReservation(p, 50, 52);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 100, fail_status: 500 });

    // One delivery attempt by the consumer, on a hand-built batch whose retry() is a no-op: the
    // event is left `retrying` with no redelivery pending in the real queue, so the operator's
    // retry below is the only thing that can import it.
    const message: WebhookMessage = {
      v: 1,
      kind: "webhook",
      platform: "airbnb",
      eventId: r.hook.event_id,
      eventType: r.hook.event_type,
      receivedAt: Date.now(),
      signature: r.delivery.headers["x-airbnb-signature"] ?? null,
      bodyB64: bytesToBase64(new TextEncoder().encode(r.delivery.body)),
    };
    let retried = false;
    const msg = {
      id: "operator-replay-1",
      timestamp: new Date(),
      attempts: 1,
      body: message,
      ack: () => {},
      retry: () => {
        retried = true;
      },
    };
    await handleInboundBatch(messageBatch("inbound", [msg]), env);
    expect(retried).toBe(true);
    const event = await eventByKey(admin, r.key);
    const failed = await getEvent(admin, event.id as string);
    expect(["retrying", "failed"]).toContain(failed.status);
    expect((failed.attempt_log as Json[]).length).toBeGreaterThanOrEqual(1);
    expect(await bookingsOf(r.code)).toEqual([]);

    await sandbox("DELETE", "/_sandbox/airbnb/faults");
    const queued = await expectApi(202, "POST", `/api/v1/events/${event.id}/retry`, admin);
    expect(queued).toMatchObject({ status: "received", attempts: 0 });
    expect(queued.attempt_log).toEqual(failed.attempt_log);

    await eventually(async () => (await bookingsOf(r.code))[0]?.status === "confirmed", {
      what: "booking confirmed after the retry",
    });
    const done = await eventually(
      async () => {
        const e = await getEvent(admin, event.id as string);
        return e.status === "done" ? e : null;
      },
      { what: "event done" },
    );
    expect(done.attempts).toBe(1);
    expect(done.attempt_log).toEqual(failed.attempt_log);
    expect(await bookingsOf(r.code)).toHaveLength(1);
  });
});
