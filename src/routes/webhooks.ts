import { z, type RouteConfig } from "@hono/zod-openapi";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { engineConfig } from "../config";
import { ApiError, zodIssues } from "../http/errors";
import { verifyOtaWebhook, type SignatureFailure } from "../ingress/signature";
import { bytesToBase64 } from "../lib/encoding";
import { log } from "../lib/log";
import { LogSampler, logSampled } from "../lib/log-sampler";
import { count, labelValue, type WebhookRejection } from "../lib/metrics";
import type { ModuleWith } from "../platforms/contract";
import { platformConfig, withCapability } from "../platforms/registry";
import type { WebhookMessage } from "../queue/messages";
import { ZodError } from "zod";

/**
 * Edge ingress for OTA webhooks. The hot path only verifies, validates and enqueues: no D1.
 * 202 means the event is on the durable `inbound` queue; 503 asks the sender to retry.
 */
export const webhooks = new Hono<WebhookEnv>();

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
/** The platforms with an inbound webhook: each gets /api/v1/webhooks/<id>. */
const WEBHOOK_MODULES = withCapability("webhook");
const WEBHOOK_IDS = WEBHOOK_MODULES.map((m) => m.id);

/** "x-airbnb-signature" → "X-Airbnb-Signature", as the platforms document their headers. */
const headerTitle = (name: string) => name.replace(/(^|-)[a-z]/g, (s) => s.toUpperCase());
const signatureHeaders = WEBHOOK_MODULES.flatMap((m) =>
  m.webhook.verification.kind === "none" ? [] : [headerTitle(m.webhook.verification.header)],
);

export const WEBHOOK_DOCS: RouteConfig[] = [
  {
    method: "post",
    path: "/api/v1/webhooks/{platform}",
    tags: ["Webhooks"],
    summary: `Receive a signed platform webhook (${WEBHOOK_MODULES.map((m) => m.displayName).join(", ")})`,
    description:
      `Header ${signatureHeaders.join(" or ")}: t=<unix seconds>,v1=<hex HMAC-SHA256 of ` +
      "'<t>.<raw body>'>. 202 means the event is on the durable inbound queue.",
    request: {
      params: z.object({
        platform: z
          .enum(WEBHOOK_IDS as [string, ...string[]])
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

webhooks.post("/:platform", webhookPlatform, webhookBodyLimit, async (c) => {
  const module = c.var.module;
  const platform = module.id;
  const config = engineConfig(c.env);
  const body = new Uint8Array(await c.req.raw.arrayBuffer());

  const verification = module.webhook.verification;
  if (verification.kind !== "ota_hmac") {
    // The contract names the other kinds for platforms to come; the ingress verifies only this one.
    throw new Error(`no ingress for webhook verification ${verification.kind} (${platform})`);
  }
  const signature = c.req.header(verification.header) ?? null;
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
    hint = module.webhook.parse(json);
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
