/**
 * Per-isolate counters, served as Prometheus text at /metrics. Workers isolates are many and
 * short-lived, so these are a live view of this isolate, not totals; durable figures come from
 * D1 (webhook_log, sync_logs).
 */
const counters = new Map<string, number>();

export function count(name: string, labels: Record<string, string> = {}, by = 1): void {
  const key = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
    .join(",")}}`;
  counters.set(key, (counters.get(key) ?? 0) + by);
}

export function metricsText(): string {
  return [...counters.entries()].map(([k, v]) => `${k} ${v}`).join("\n") + "\n";
}
