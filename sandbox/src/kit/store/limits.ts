import { injectedFault, readFaults } from "./faults";
import { tokenClient } from "./tokens";
import type { GateDecision, RateWindow } from "./types";

/** Count a call against a rolling window; refused calls are not counted. */
export function hit(
  sql: SqlStorage,
  window: RateWindow,
  now: number,
): { ok: true } | { ok: false; retry_after: number } {
  const since = now - window.windowMs;
  sql.exec("DELETE FROM hits WHERE bucket = ? AND at <= ?", window.bucket, since);
  const rows = sql
    .exec(
      "SELECT at FROM hits WHERE bucket = ? ORDER BY at ASC LIMIT ?",
      window.bucket,
      window.limit,
    )
    .toArray();
  if (rows.length >= window.limit) {
    const oldest = Number(rows[0]!.at);
    return {
      ok: false,
      retry_after: Math.max(1, Math.ceil((oldest + window.windowMs - now) / 1000)),
    };
  }
  sql.exec("INSERT INTO hits (bucket, at) VALUES (?, ?)", window.bucket, now);
  return { ok: true };
}

/**
 * Decide what happens to one API call: an injected fault (consuming its counter), missing or bad
 * credentials, the published rate limit when enforced, or go ahead. One transaction per call.
 */
export function gate(
  sql: SqlStorage,
  token: string | null,
  rate: RateWindow,
  now: number,
  path: string,
): GateDecision {
  const fault = injectedFault(sql, path);
  if (fault) return fault;
  const f = readFaults(sql);
  const latency = f.latency_ms;
  const client = token ? tokenClient(sql, token, now) : null;
  if (!client) return { latency_ms: latency, outcome: { type: "unauthorized" } };
  if (f.enforce_rate_limit) {
    const r = hit(sql, { ...rate, bucket: `${rate.bucket}:${client}` }, now);
    if (!r.ok)
      return { latency_ms: latency, outcome: { type: "rate_limited", retry_after: r.retry_after } };
  }
  return { latency_ms: latency, outcome: { type: "ok", client_id: client } };
}
