import { z, type RouteConfig } from "@hono/zod-openapi";
import { Hono } from "hono";
import { engineConfig } from "../config";
import type { Platform } from "../db/channels.schema";
import { ApiError, zodIssues } from "../http/errors";
import { verifyOtaWebhook, type SignatureFailure } from "../ingress/signature";
import { bytesToBase64 } from "../lib/encoding";
import { log } from "../lib/log";
import { LogSampler, logSampled } from "../lib/log-sampler";
import { count, labelValue, type WebhookRejection } from "../lib/metrics";
import { getAdapter, platformConfig } from "../platforms/registry";
import type { WebhookMessage } from "../queue/messages";
import { ZodError } from "zod";

/**
 * Edge ingress for OTA webhooks. The hot path only verifies, validates and enqueues: no D1.
 * 202 means the event is on the durable `inbound` queue; 503 asks the sender to retry.
 */
export const webhooks = new Hono<{ Bindings: Env }>();

const WebhookAccepted = z.object({ accepted: z.literal(true), event_id: z.string() });
const WebhookError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const errorAnswer = (description: string) => ({
  description,
  content: { "application/json": { schema: WebhookError } },
});

/**
 * Documented by hand (registerPath) rather than through a validating route: the verifier needs
 * the raw bytes, which a body validator would consume first.
 */
export const WEBHOOK_DOCS: RouteConfig[] = [
  {
    method: "post",
    path: "/api/v1/webhooks/{platform}",
    tags: ["Webhooks"],
    summary: "Receive a signed platform webhook (Airbnb, Booking.com)",
    description:
      "Header X-Airbnb-Signature or X-Booking-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of " +
      "'<t>.<raw body>'>. 202 means the event is on the durable inbound queue.",
    request: {
      params: z.object({
        platform: z
          .enum(["airbnb", "booking_com"])
          .openapi({ param: { name: "platform", in: "path" } }),
      }),
      body: { content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } },
    },
    responses: {
      202: {
        description: "Accepted and queued",
        content: { "application/json": { schema: WebhookAccepted } },
      },
      400: errorAnswer("Malformed JSON or an invalid field (named)"),
      401: errorAnswer("Missing, malformed, stale, future or wrong signature"),
      404: errorAnswer("Unknown platform"),
      413: errorAnswer("Body larger than WEBHOOK_MAX_BYTES"),
      503: errorAnswer("Could not enqueue; retry after Retry-After"),
    },
  },
];

const WEBHOOK_PLATFORMS: readonly Platform[] = ["airbnb", "booking_com"];

const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing_signature: "signature header is missing",
  malformed_signature: "signature header is malformed (expected t=<unix>,v1=<hex>)",
  stale_timestamp: "signature timestamp is too old (replay refused)",
  future_timestamp: "signature timestamp is in the future",
  signature_mismatch: "signature does not match the body",
};

/**
 * Junk costs a counter increment, not a log line each: at most 10 lines per reason per isolate
 * per minute, the next one saying how many were held back. The counter counts every rejection.
 */
const rejectionLogs = new LogSampler(10, 60_000);

function reject(platform: string, reason: WebhookRejection, err: ApiError): never {
  count("webhook_rejected_total", { platform, reason });
  const fields: Record<string, unknown> = { platform: labelValue("platform", platform), reason };
  // The path a sender used is the one clue to a misconfigured webhook URL; kept short.
  if (reason === "unknown_platform") fields.requested = platform.slice(0, 32);
  logSampled(rejectionLogs, reason, "warn", "webhook.rejected", { ...fields, status: err.status });
  throw err;
}

/** Read at most `max` bytes; a larger body is refused before it is buffered whole. */
async function readLimited(req: Request, max: number, platform: string): Promise<Uint8Array> {
  const tooLarge = () =>
    reject(
      platform,
      "too_large",
      new ApiError(413, "payload_too_large", `body exceeds the ${max}-byte limit`),
    );
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) tooLarge();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return body;
}

webhooks.post("/:platform", async (c) => {
  const platformParam = c.req.param("platform");
  const platform = WEBHOOK_PLATFORMS.find((p) => p === platformParam);
  const adapter = platform && getAdapter(platform);
  if (!platform || !adapter) {
    reject(
      platformParam,
      "unknown_platform",
      new ApiError(404, "unknown_platform", `no webhook endpoint for platform "${platformParam}"`),
    );
  }
  const config = engineConfig(c.env);
  const body = await readLimited(c.req.raw, config.webhookMaxBytes, platform);

  const signature = c.req.header(adapter.signatureHeader) ?? null;
  const verified = await verifyOtaWebhook({
    header: signature,
    body,
    secrets: platformConfig(c.env, platform).webhookSecrets,
    nowSeconds: Math.floor(Date.now() / 1000),
    toleranceSeconds: config.webhookToleranceSeconds,
  });
  if (!verified.ok) {
    reject(
      platform,
      verified.reason,
      new ApiError(401, verified.reason, SIGNATURE_MESSAGES[verified.reason]),
    );
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch (err) {
    reject(
      platform,
      "malformed_json",
      new ApiError(400, "malformed_json", `body is not valid JSON: ${(err as Error).message}`),
    );
  }
  let hint;
  try {
    hint = adapter.parseWebhook(json);
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issues = zodIssues(err);
    const first = issues[0];
    reject(
      platform,
      "invalid_payload",
      new ApiError(
        400,
        "invalid_payload",
        `webhook payload is invalid: ${first ? `${first.path}: ${first.message}` : "unknown"}`,
        issues,
      ),
    );
  }

  const message: WebhookMessage = {
    v: 1,
    kind: "webhook",
    platform,
    eventId: hint.eventId,
    eventType: hint.eventType,
    receivedAt: Date.now(),
    signature,
    bodyB64: bytesToBase64(body),
    deliveryId: crypto.randomUUID(),
  };
  try {
    await c.env.INBOUND_QUEUE.send(message, { contentType: "json" });
  } catch (err) {
    count("webhook_enqueue_failed_total", { platform });
    log("error", "webhook.enqueue_failed", { platform, eventId: hint.eventId, error: String(err) });
    throw new ApiError(
      503,
      "queue_unavailable",
      "could not enqueue the event; retry later",
      undefined,
      {
        "Retry-After": "5",
      },
    );
  }
  count("webhook_accepted_total", { platform });
  return c.json({ accepted: true, event_id: hint.eventId }, 202);
});
