// Edge-ingest load for `npm run bench`: signed webhooks (platforms/index.mjs, INGEST) fired with
// autocannon.
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { ROOT } from "../lib/stack.mjs";
import { INGEST } from "./platforms/index.mjs";

export const WEBHOOK_PATH = INGEST.webhook.path;

/** The secret the engine verifies with: .dev.vars wins over the example, as in `wrangler dev`. */
export function webhookSecret() {
  const name = INGEST.webhook.secretName;
  const pattern = new RegExp(`^${name}=(.*)$`, "m");
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = join(ROOT, file);
    if (!existsSync(path)) continue;
    const match = pattern.exec(readFileSync(path, "utf8"));
    if (match?.[1]) return match[1].trim();
  }
  throw new Error(`${name} is not set in .dev.vars or .dev.vars.example`);
}

/**
 * Returns a function building one signed webhook per call: a fresh event id (the consumer would
 * otherwise count duplicates) and a fresh signature timestamp, as a real sender does. The event
 * is for an unmapped listing: the consumer records it and ignores it, so the load stays on the
 * edge path (which cannot know that) instead of piling up calls to the sandbox.
 */
export function signedWebhookFactory(secret) {
  const run = randomBytes(4).toString("hex");
  let seq = 0;
  return () => {
    const n = (seq++).toString(36).toUpperCase().padStart(8, "0");
    const body = JSON.stringify(INGEST.webhook.event(`evt_bench_${run}_${n}`, `HM${n.slice(-8)}`));
    const t = Math.floor(Date.now() / 1000);
    const mac = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    return {
      body,
      headers: { "content-type": "application/json", [INGEST.webhook.header]: `t=${t},v1=${mac}` },
    };
  };
}

/** One autocannon run of signed POSTs against `baseUrl`; resolves to the raw result. */
export function fireWebhooks(baseUrl, { connections, seconds, makeWebhook }) {
  return autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: "POST",
        path: WEBHOOK_PATH,
        setupRequest: (req) => {
          const { body, headers } = makeWebhook();
          return { ...req, body, headers: { ...req.headers, ...headers } };
        },
      },
    ],
  });
}

/** The figures the bench reports, from an autocannon result. */
export function summarizeLoad(result) {
  return {
    rps: round(result.requests.total / result.duration, 1),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requests: result.requests.total,
    duration_s: result.duration,
    status_codes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]),
    ),
  };
}

export const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
