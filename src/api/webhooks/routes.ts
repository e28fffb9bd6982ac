import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ZodError } from "zod";
import { engineConfig } from "../../config";
import { ApiError, zodIssues } from "../../http/errors";
import { verifyOtaWebhook } from "../../ingress/signature";
import { bytesToBase64 } from "../../lib/encoding";
import { log } from "../../lib/log";
import { LogSampler, logSampled } from "../../lib/log-sampler";
import { count, labelValue, type WebhookRejection } from "../../lib/metrics";
import type { ModuleWith, WebhookHint } from "../../platforms/contract";
import { platformConfig } from "../../platforms/registry";
import type { WebhookMessage } from "../../queue/messages";
import { SIGNATURE_MESSAGES, WEBHOOK_MODULES } from "./schemas";

/**
 * Edge ingress for OTA webhooks. The hot path only verifies, validates and enqueues: no D1.
 * 202 means the event is on the durable `inbound` queue; 503 asks the sender to retry.
 */
export const webhooks = new Hono<WebhookEnv>();

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

type WebhookEnv = { Bindings: Env; Variables: { module: ModuleWith<"webhook"> } };

/** The platform of the path, when it has an inbound webhook; anything else is a 404. */
const webhookPlatform: MiddlewareHandler<WebhookEnv> = async (c, next) => {
  const platformParam = c.req.param("platform") ?? "";
  const module = WEBHOOK_MODULES.find((m) => m.id === platformParam);
  if (!module) {
    reject(
      platformParam,
      "unknown_platform",
      new ApiError(404, "unknown_platform", `no webhook endpoint for platform "${platformParam}"`),
    );
  }
  c.set("module", module);
  await next();
};

/**
 * At most WEBHOOK_MAX_BYTES: a declared length above it is refused before anything is read, and a
 * body without one is counted as it streams and refused at the first byte over (hono/body-limit).
 */
const webhookBodyLimit: MiddlewareHandler<WebhookEnv> = (c, next) => {
  const max = engineConfig(c.env).webhookMaxBytes;
  return bodyLimit({
    maxSize: max,
    onError: () =>
      reject(
        c.var.module.id,
        "too_large",
        new ApiError(413, "payload_too_large", `body exceeds the ${max}-byte limit`),
      ),
  })(c, next);
};

/** The signature header, verified against the platform's secrets (a 401 names the failure). */
async function verified(c: Context<WebhookEnv>, body: Uint8Array): Promise<string | null> {
  const module = c.var.module;
  const verification = module.webhook.verification;
  if (verification.kind !== "ota_hmac") {
    // The contract names the other kinds for platforms to come; the ingress verifies only this one.
    throw new Error(`no ingress for webhook verification ${verification.kind} (${module.id})`);
  }
  const signature = c.req.header(verification.header) ?? null;
  const result = await verifyOtaWebhook({
    header: signature,
    body,
    secrets: platformConfig(c.env, module.id).webhookSecrets,
    nowSeconds: Math.floor(Date.now() / 1000),
    toleranceSeconds: engineConfig(c.env).webhookToleranceSeconds,
  });
  if (!result.ok) {
    reject(
      module.id,
      result.reason,
      new ApiError(401, result.reason, SIGNATURE_MESSAGES[result.reason]),
    );
  }
  return signature;
}

/** The body as JSON, and the platform's parse of it (a 400 names what is wrong). */
function hintOf(module: ModuleWith<"webhook">, body: Uint8Array): WebhookHint {
  const platform = module.id;
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
  try {
    return module.webhook.parse(json);
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
}

/** Put the event on the inbound queue; a refusal is a 503 the sender retries. */
async function enqueue(env: Env, message: WebhookMessage): Promise<void> {
  try {
    await env.INBOUND_QUEUE.send(message, { contentType: "json" });
  } catch (err) {
    const platform = message.platform;
    count("webhook_enqueue_failed_total", { platform });
    log("error", "webhook.enqueue_failed", {
      platform,
      eventId: message.eventId,
      error: String(err),
    });
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
}

webhooks.post("/:platform", webhookPlatform, webhookBodyLimit, async (c) => {
  const platform = c.var.module.id;
  const body = new Uint8Array(await c.req.raw.arrayBuffer());
  const signature = await verified(c, body);
  const hint = hintOf(c.var.module, body);
  await enqueue(c.env, {
    v: 1,
    kind: "webhook",
    platform,
    eventId: hint.eventId,
    eventType: hint.eventType,
    receivedAt: Date.now(),
    signature,
    bodyB64: bytesToBase64(body),
    deliveryId: crypto.randomUUID(),
  });
  count("webhook_accepted_total", { platform });
  return c.json({ accepted: true, event_id: hint.eventId }, 202);
});
