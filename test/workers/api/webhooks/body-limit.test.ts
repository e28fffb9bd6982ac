import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signOtaWebhook } from "../../../../src/ingress/signature";
import { SELF_FETCH } from "../../../support/fixtures";

/**
 * The webhook size limit (hono/body-limit) on bodies that declare no length: a chunked body is
 * counted as it streams, refused with the same 413 envelope as a declared length over the limit,
 * and passed on intact when it fits (its signature still verifies over the bytes read).
 */

const LIMIT = 65_536; // WEBHOOK_MAX_BYTES' default

function streamOf(text: string, chunkBytes = 4_096): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

async function postStreamed(raw: string): Promise<Response> {
  const t = Math.floor(Date.now() / 1000);
  const signature = await signOtaWebhook(env.AIRBNB_WEBHOOK_SECRET, t, raw);
  return SELF_FETCH("http://engine.test/api/v1/webhooks/airbnb", {
    method: "POST",
    headers: { "content-type": "application/json", "x-airbnb-signature": signature },
    body: streamOf(raw),
  });
}

const event = (padding: number) =>
  JSON.stringify({
    event_id: `evt_${crypto.randomUUID()}`,
    event_type: "reservation.created",
    listing_id: "12345678",
    confirmation_code: "HMABCD1234",
    occurred_at: new Date().toISOString(),
    padding: "x".repeat(padding),
  });

let send: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  send = vi.spyOn(env.INBOUND_QUEUE, "send").mockResolvedValue({} as QueueSendResponse);
});
afterEach(() => vi.restoreAllMocks());

describe("webhook body limit without a declared length", () => {
  it("refuses a streamed body over the limit with 413 payload_too_large, enqueuing nothing", async () => {
    const res = await postStreamed(event(LIMIT));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: "payload_too_large", message: `body exceeds the ${LIMIT}-byte limit` },
    });
    expect(send).not.toHaveBeenCalled();
  });

  it("passes a streamed body within the limit on whole: verified and queued", async () => {
    const raw = event(LIMIT - 1_000);
    expect(new TextEncoder().encode(raw).byteLength).toBeLessThanOrEqual(LIMIT);
    const res = await postStreamed(raw);
    expect(res.status).toBe(202);
    expect(send).toHaveBeenCalledTimes(1);
  });
});
