import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signOtaWebhook } from "../../../../src/ingress/signature";
import { eventually, postWebhook, SELF_FETCH } from "../../../support/fixtures";

const airbnbEvent = (over: Record<string, unknown> = {}) => ({
  event_id: `evt_${crypto.randomUUID()}`,
  event_type: "reservation.created",
  listing_id: "12345678",
  confirmation_code: "HMABCD1234",
  occurred_at: new Date().toISOString(),
  ...over,
});

async function errorOf(res: Response) {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

/**
 * These tests are about the edge's answers, so what they enqueue is captured rather than left on
 * the real queue, whose consumer would otherwise still be working on it when the file ends (a
 * queue invocation crossing into the next test file can stall the Workers test pool). One test
 * sends for real and waits for the consumer to finish with it.
 */
let sent: unknown[] = [];
beforeEach(() => {
  sent = [];
  vi.spyOn(env.INBOUND_QUEUE, "send").mockImplementation(async (body: unknown) => {
    sent.push(body);
    return {} as QueueSendResponse;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("edge webhook ingress", () => {
  it("accepts a signed webhook with 202 once it is on the inbound queue", async () => {
    vi.restoreAllMocks();
    const send = vi.spyOn(env.INBOUND_QUEUE, "send");
    const event = airbnbEvent();
    const res = await postWebhook("airbnb", event);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, event_id: event.event_id });
    expect(send).toHaveBeenCalledTimes(1);
    const [message] = send.mock.calls[0]!;
    expect(message).toMatchObject({ kind: "webhook", platform: "airbnb", eventId: event.event_id });
    // The real consumer takes it (an unknown listing: recorded, not imported) before the test ends.
    await eventually(
      async () =>
        (await env.DB.prepare(
          `SELECT 1 AS done FROM channel_events WHERE idempotency_key = ? AND status NOT IN ('received', 'processing')`,
        )
          .bind(`airbnb:${event.event_id}`)
          .first()) !== null,
      { what: "the consumer to finish with the event" },
    );
  });

  it("accepts the previous secret during rotation", async () => {
    const res = await postWebhook("airbnb", airbnbEvent(), {
      secret: env.AIRBNB_WEBHOOK_SECRET_PREVIOUS,
    });
    expect(res.status).toBe(202);
  });

  it.each([
    ["missing signature", { header: null }, "missing_signature"],
    ["wrong secret", { secret: "not-the-secret" }, "signature_mismatch"],
    ["stale timestamp", { timestamp: Math.floor(Date.now() / 1000) - 400 }, "stale_timestamp"],
    ["future timestamp", { timestamp: Math.floor(Date.now() / 1000) + 400 }, "future_timestamp"],
    ["garbage header", { header: "sha256=deadbeef" }, "malformed_signature"],
  ])("answers 401 for %s", async (_why, opts, code) => {
    const res = await postWebhook("airbnb", airbnbEvent(), opts);
    expect(await errorOf(res)).toMatchObject({ status: 401, code });
  });

  it("answers 401 when one byte of the signed body changed", async () => {
    const raw = JSON.stringify(airbnbEvent());
    const header = await signOtaWebhook(
      env.AIRBNB_WEBHOOK_SECRET,
      Math.floor(Date.now() / 1000),
      raw,
    );
    const res = await SELF_FETCH("http://engine.test/api/v1/webhooks/airbnb", {
      method: "POST",
      headers: { "x-airbnb-signature": header },
      body: raw.replace("12345678", "12345679"),
    });
    expect(await errorOf(res)).toMatchObject({ status: 401, code: "signature_mismatch" });
  });

  it("answers 400 naming the problem for malformed JSON and for an invalid field", async () => {
    const bad = await postWebhook("airbnb", null, { rawBody: '{"event_id": ' });
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: "malformed_json" });
    const invalid = await postWebhook("airbnb", airbnbEvent({ confirmation_code: "nope" }));
    const e = await errorOf(invalid);
    expect(e).toMatchObject({ status: 400, code: "invalid_payload" });
    expect(e.message).toContain("confirmation_code");
  });

  it("answers 413 for a body over the limit, before verifying anything", async () => {
    const big = JSON.stringify(airbnbEvent({ padding: "x".repeat(70_000) }));
    const res = await postWebhook("airbnb", null, { rawBody: big });
    expect(await errorOf(res)).toMatchObject({ status: 413, code: "payload_too_large" });
  });

  it("answers 404 for an unknown platform", async () => {
    const res = await SELF_FETCH("http://engine.test/api/v1/webhooks/myspace", {
      method: "POST",
      body: "{}",
    });
    expect(await errorOf(res)).toMatchObject({ status: 404, code: "unknown_platform" });
  });

  it("answers 503 with Retry-After when the queue refuses, so the sender retries", async () => {
    vi.restoreAllMocks();
    const send = vi.spyOn(env.INBOUND_QUEUE, "send").mockRejectedValueOnce(new Error("queue down"));
    const res = await postWebhook("airbnb", airbnbEvent());
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await errorOf(res)).code).toBe("queue_unavailable");
    send.mockRestore();
  });

  it("answers the Booking.com push notification the same way", async () => {
    const res = await postWebhook("booking_com", {
      event_id: "bcn_1",
      event_type: "reservation.new",
      hotel_id: "1234567",
      reservation_id: "4000000001",
      occurred_at: new Date().toISOString(),
    });
    expect(res.status).toBe(202);
    expect(sent).toMatchObject([{ kind: "webhook", platform: "booking_com", eventId: "bcn_1" }]);
  });
});
