import { DEFAULT_FAULTS, type Faults, type GateDecision } from "./types";

/** Injected faults, one settings row per platform (`POST /_sandbox/<platform>/faults`). */

export function readFaults(sql: SqlStorage): Faults {
  const row = sql.exec("SELECT value FROM settings WHERE key = 'faults'").toArray()[0];
  return row
    ? { ...DEFAULT_FAULTS, ...(JSON.parse(String(row.value)) as Partial<Faults>) }
    : { ...DEFAULT_FAULTS };
}

export function writeFaults(sql: SqlStorage, faults: Faults): Faults {
  sql.exec(
    `INSERT INTO settings (key, value) VALUES ('faults', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    JSON.stringify(faults),
  );
  return faults;
}

/**
 * The injected fault that answers this call, if any (consuming its counter); null to go on.
 * Precedence: timeout, fail_next, rate_limit_next, fail_rate. With `fault_path` set, only calls
 * whose path contains it are answered by a fault (one endpoint fails, the others work).
 */
export function injectedFault(sql: SqlStorage, path: string): GateDecision | null {
  const f = readFaults(sql);
  const latency = f.latency_ms;
  if (f.fault_path !== "" && !path.includes(f.fault_path)) return null;
  if (f.timeout_next > 0) {
    writeFaults(sql, { ...f, timeout_next: f.timeout_next - 1 });
    return {
      latency_ms: latency,
      outcome: { type: "fault", fault: "timeout", status: 504, hang_ms: f.timeout_ms },
    };
  }
  if (f.fail_next > 0) {
    writeFaults(sql, { ...f, fail_next: f.fail_next - 1 });
    return {
      latency_ms: latency,
      outcome: { type: "fault", fault: "fail_next", status: f.fail_status },
    };
  }
  if (f.rate_limit_next > 0) {
    writeFaults(sql, { ...f, rate_limit_next: f.rate_limit_next - 1 });
    return {
      latency_ms: latency,
      outcome: { type: "fault", fault: "rate_limit_next", status: 429, retry_after: f.retry_after },
    };
  }
  if (f.fail_rate > 0 && Math.random() < f.fail_rate) {
    return { latency_ms: latency, outcome: { type: "fault", fault: "fail_rate", status: 503 } };
  }
  return null;
}
