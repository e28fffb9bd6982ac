import { z, type RouteConfig } from "@hono/zod-openapi";
import type { SignatureFailure } from "../../ingress/signature";
import { withCapability } from "../../platforms/registry";

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
export const WEBHOOK_MODULES = withCapability("webhook");
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

export const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing_signature: "signature header is missing",
  malformed_signature: "signature header is malformed (expected t=<unix>,v1=<hex>)",
  stale_timestamp: "signature timestamp is too old (replay refused)",
  future_timestamp: "signature timestamp is in the future",
  signature_mismatch: "signature does not match the body",
};
