import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../../../src/lib/encoding";
import { handleInboundBatch } from "../../../../src/queue/inbound";
import type { WebhookMessage } from "../../../../src/queue/messages";
import { expectApi, tokenFor } from "../../api/operator-fixtures";
import { addDaysUtc, sandbox, seedPortfolio, type Delivery } from "../../../support/fixtures";

/**
 * An event's record says what it did. Booking.com's acknowledgement fails after the booking batch
 * committed: the retry pulls the same revision again, finds nothing new, acknowledges — and the
 * event stays `done` as the one that created the booking (not `ignored` as stale), with a note
 * in its attempt log. From the booking, the event is found again.
 */

afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/booking_com/faults");
});

function messageOf(d: Delivery): WebhookMessage {
  const hook = JSON.parse(d.body) as { event_id: string; event_type: string };
  return {
    v: 1,
    kind: "webhook",
    platform: "booking_com",
    eventId: hook.event_id,
    eventType: hook.event_type,
    receivedAt: Date.now(),
    signature: d.headers["x-booking-signature"] ?? null,
    bodyB64: bytesToBase64(new TextEncoder().encode(d.body)),
    deliveryId: `dlv-${hook.event_id}`,
  };
}

/** One delivery attempt through the real consumer; whether it was acked. */
async function attempt(message: WebhookMessage, attempts: number): Promise<boolean> {
  let acked = false;
  const msg = {
    id: "m-1",
    timestamp: new Date(),
    attempts,
    body: message,
    ack: () => void (acked = true),
    retry: () => {},
  };
  await handleInboundBatch(
    { queue: "inbound", messages: [msg], ackAll: () => {}, retryAll: () => {} } as never,
    env,
  );
  return acked;
}

describe("an event's record says what it did", () => {
  it("a failed acknowledgement after the booking was stored: the retry keeps the event done, linked to its booking", async () => {
    const p = await seedPortfolio();
    const admin = await tokenFor(p.tenantId);
    const { reservation, deliveries } = await sandbox<{
      reservation: { reservation_id: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      hotel_id: p.booking.hotelId,
      room_id: p.booking.roomId,
      rate_plan_id: p.booking.ratePlanId,
      start_date: addDaysUtc(50),
      end_date: addDaysUtc(53),
      guest_name: "Katherine Johnson",
    });
    const message = messageOf(deliveries[0]!);
    const key = `booking_com:${message.eventId}`;
    // The pull works; the acknowledgement (and only it) answers 503 once.
    await sandbox("POST", "/_sandbox/booking_com/faults", {
      fail_next: 1,
      fault_path: "/ota/OTA_HotelResNotifRS",
    });

    expect(await attempt(message, 1)).toBe(false);
    const booking = await env.DB.prepare(
      `SELECT id, status FROM bookings WHERE channel_booking_id = ? AND source = 'booking_com'`,
    )
      .bind(reservation.reservation_id)
      .first<{ id: string; status: string }>();
    expect(booking?.status).toBe("confirmed");
    const first = await env.DB.prepare(
      `SELECT id, status FROM channel_events WHERE idempotency_key = ?`,
    )
      .bind(key)
      .first<{ id: string; status: string }>();
    expect(first?.status).toBe("retrying");

    // The retry: the same revision is pulled again (it was never acknowledged).
    expect(await attempt(message, 2)).toBe(true);
    const event = await expectApi(200, "GET", `/api/v1/events/${first!.id}`, admin);
    expect(event).toMatchObject({ status: "done", attempts: 2 });
    expect(event.outcome).toMatch(/: created$/);
    expect(event.changes).toEqual([
      expect.objectContaining({
        booking_id: booking!.id,
        outcome: "created",
        status: "confirmed",
        check_in: addDaysUtc(50),
        check_out: addDaysUtc(53),
        channel_revision: expect.any(Number),
      }),
    ]);
    expect(event.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, error: expect.stringContaining("503") }),
      expect.objectContaining({
        attempt: 2,
        error: null,
        note: "nothing new to apply: an earlier attempt applied these changes; this one acknowledged them",
      }),
    ]);
    // From the booking back to the event that made it.
    const byBooking = await expectApi(
      200,
      "GET",
      `/api/v1/events?booking_id=${booking!.id}`,
      admin,
    );
    expect(byBooking.data.map((e: { id: string }) => e.id)).toEqual([first!.id]);
    // Another tenant asking about this booking sees nothing.
    const stranger = await tokenFor((await seedPortfolio()).tenantId);
    const foreign = await expectApi(
      200,
      "GET",
      `/api/v1/events?booking_id=${booking!.id}`,
      stranger,
    );
    expect(foreign.data).toEqual([]);
    // And the platform heard back: the acknowledgement failed once, then went through.
    const log = await sandbox<{ requests: Array<{ path: string; status: number }> }>(
      "GET",
      "/_sandbox/booking_com/requests?limit=50",
    );
    expect(
      log.requests.filter((r) => r.path.endsWith("/OTA_HotelResNotifRS")).map((r) => r.status),
    ).toEqual([503, 200]);
  });
});
