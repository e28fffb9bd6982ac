import { IDEMPOTENCY_TTL_MS, RECEIVED_LOG_SIZE, REQUEST_LOG_SIZE } from "./schema";
import {
  DEFAULT_FAULTS,
  type Faults,
  type GateDecision,
  type HeldDelivery,
  type IdempotentResult,
  type NewReceivedBody,
  type RateWindow,
  type ReceivedBody,
  type ReceivedQuery,
  type RequestLogEntry,
} from "./types";

// ---- faults ----

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

// ---- rolling-window rate limits ----

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

// ---- tokens ----

export function storeToken(
  sql: SqlStorage,
  token: string,
  clientId: string,
  expiresAt: number,
): void {
  sql.exec("DELETE FROM tokens WHERE expires_at <= ?", Date.now());
  sql.exec(
    "INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)",
    token,
    clientId,
    expiresAt,
  );
}

export function tokenClient(sql: SqlStorage, token: string, now: number): string | null {
  const row = sql
    .exec("SELECT client_id FROM tokens WHERE token = ? AND expires_at > ?", token, now)
    .toArray()[0];
  return row ? String(row.client_id) : null;
}

// ---- the gate in front of every API call ----

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

// ---- logs ----

export function logRequest(sql: SqlStorage, e: RequestLogEntry): void {
  sql.exec(
    `INSERT INTO requests (at, method, path, query, status, idempotency_key, fault)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    e.at,
    e.method,
    e.path,
    e.query,
    e.status,
    e.idempotency_key,
    e.fault,
  );
  sql.exec("DELETE FROM requests WHERE id <= (SELECT MAX(id) FROM requests) - ?", REQUEST_LOG_SIZE);
}

/** The most recent `limit` entries, oldest first. */
export function listRequests(sql: SqlStorage, limit: number): RequestLogEntry[] {
  return sql
    .exec(
      `SELECT at, method, path, query, status, idempotency_key, fault FROM
         (SELECT * FROM requests ORDER BY id DESC LIMIT ?) ORDER BY id ASC`,
      limit,
    )
    .toArray() as unknown as RequestLogEntry[];
}

export function storeReceived(sql: SqlStorage, e: NewReceivedBody): void {
  sql.exec(
    `INSERT INTO received_bodies
       (at, method, path, content_type, body, status, fault, idempotency_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    e.at,
    e.method,
    e.path,
    e.content_type,
    e.body,
    e.status,
    e.fault,
    e.idempotency_key,
  );
  sql.exec(
    "DELETE FROM received_bodies WHERE id <= (SELECT MAX(id) FROM received_bodies) - ?",
    RECEIVED_LOG_SIZE,
  );
}

const RECEIVED_COLUMNS = "id, at, method, path, content_type, body, status, fault, idempotency_key";

export function listReceived(sql: SqlStorage, q: ReceivedQuery): ReceivedBody[] {
  const cursor =
    q.after === null
      ? sql.exec(
          `SELECT ${RECEIVED_COLUMNS} FROM
             (SELECT * FROM received_bodies ORDER BY id DESC LIMIT ?) ORDER BY id ASC`,
          q.limit,
        )
      : sql.exec(
          `SELECT ${RECEIVED_COLUMNS} FROM received_bodies WHERE id > ? ORDER BY id ASC LIMIT ?`,
          q.after,
          q.limit,
        );
  return cursor.toArray() as unknown as ReceivedBody[];
}

// ---- held (reordered) webhook deliveries ----

export function holdDeliveries(sql: SqlStorage, deliveries: HeldDelivery[]): void {
  for (const d of deliveries) sql.exec("INSERT INTO held (url, body) VALUES (?, ?)", d.url, d.body);
}

/** Remove and return every held delivery, newest first (the reordering). */
export function takeHeld(sql: SqlStorage): HeldDelivery[] {
  const rows = sql.exec("SELECT url, body FROM held ORDER BY id DESC").toArray();
  sql.exec("DELETE FROM held");
  return rows.map((r) => ({ url: String(r.url), body: String(r.body) }));
}

// ---- idempotency keys ----

export function checkIdempotency(
  sql: SqlStorage,
  key: string,
  method: string,
  path: string,
  requestBody: string,
  now: number,
): IdempotentResult {
  sql.exec("DELETE FROM idempotency WHERE at <= ?", now - IDEMPOTENCY_TTL_MS);
  const row = sql.exec("SELECT * FROM idempotency WHERE key = ?", key).toArray()[0];
  if (!row) return { kind: "fresh" };
  if (row.method !== method || row.path !== path || row.request_body !== requestBody) {
    return { kind: "mismatch" };
  }
  return { kind: "replay", status: Number(row.status), body: String(row.response_body) };
}

export function rememberIdempotency(
  sql: SqlStorage,
  key: string,
  method: string,
  path: string,
  requestBody: string,
  status: number,
  responseBody: string,
  now: number,
): void {
  sql.exec(
    `INSERT OR REPLACE INTO idempotency (key, method, path, request_body, status, response_body, at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    key,
    method,
    path,
    requestBody,
    status,
    responseBody,
    now,
  );
}
