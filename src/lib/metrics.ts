import { PLATFORM_IDS as PLATFORMS } from "../platforms/ids";
import type { SyncStatus } from "../domain/vocabulary";
import { errorMessage, log } from "./log";

/**
 * Per-isolate counters, served as Prometheus text at /metrics. Workers isolates are many and
 * short-lived, so these are a live view of this isolate, not totals; durable figures come from
 * D1 (webhook_log, sync_logs).
 *
 * Every label value comes from a fixed set, so a request can only choose which of the known
 * series it increments, never add one: junk sent to /api/v1/webhooks/<anything> lands on
 * `platform="unknown"`, and the number of series stays bounded whatever arrives.
 */

/** Why the edge refuses a webhook: the signature verifier's reasons and the edge's own. */
export const WEBHOOK_REJECTIONS = [
  "unknown_platform",
  "too_large",
  "missing_signature",
  "malformed_signature",
  "stale_timestamp",
  "future_timestamp",
  "signature_mismatch",
  "malformed_json",
  "invalid_payload",
] as const;
export type WebhookRejection = (typeof WEBHOOK_REJECTIONS)[number];

/** The only labels a counter may carry, each with the only values it may take. */
const LABEL_VALUES = {
  platform: PLATFORMS,
  reason: WEBHOOK_REJECTIONS,
  // The inbound consumer's outcomes: a webhook's and a pull's (a new one counts as unknown
  // until it is added here).
  status: ["done", "ignored", "unmapped", "duplicate", "quiet", "held", "failed"],
  queue: ["inbound", "outbound"],
} as const satisfies Record<string, readonly string[]>;

export type LabelName = keyof typeof LABEL_VALUES;

/** What a value outside its label's set is counted as. */
export const UNKNOWN_LABEL = "unknown";

const ALLOWED = Object.fromEntries(
  Object.entries(LABEL_VALUES).map(([name, values]) => [name, new Set<string>(values)]),
) as Record<LabelName, Set<string>>;

/** The value as counted: itself when its label allows it, otherwise `unknown`. */
export function labelValue(name: LabelName, value: string): string {
  return ALLOWED[name].has(value) ? value : UNKNOWN_LABEL;
}

const counters = new Map<string, number>();

export function count(name: string, labels: Partial<Record<LabelName, string>> = {}, by = 1): void {
  const pairs = (Object.keys(labels) as LabelName[])
    .sort()
    .map((label) => `${label}="${labelValue(label, labels[label] ?? "")}"`);
  const key = `${name}{${pairs.join(",")}}`;
  counters.set(key, (counters.get(key) ?? 0) + by);
}

export function metricsText(): string {
  return [...counters.entries()].map(([k, v]) => `${k} ${v}`).join("\n") + "\n";
}

/** The optional Analytics Engine binding; declared in wrangler.toml only when enabled. */
export interface MetricsBindings {
  METRICS?: AnalyticsEngineDataset;
}

export interface SyncPoint {
  tenantId: string;
  platform: string;
  direction: "inbound" | "outbound";
  status: SyncStatus;
  durationMs: number;
  retryCount: number;
}

/**
 * One data point per finished sync, written to Workers Analytics Engine where the optional
 * METRICS binding exists: index tenant; blobs platform, status, direction; doubles duration (ms),
 * retry count. Never throws: metrics must not fail the work they describe.
 */
export function writeSyncPoint(env: object, p: SyncPoint): void {
  const dataset = (env as MetricsBindings).METRICS;
  if (!dataset) return;
  try {
    dataset.writeDataPoint({
      indexes: [p.tenantId],
      blobs: [p.platform, p.status, p.direction],
      doubles: [Math.max(0, p.durationMs), p.retryCount],
    });
  } catch (err) {
    log("warn", "metrics.write_failed", { error: errorMessage(err) });
  }
}
