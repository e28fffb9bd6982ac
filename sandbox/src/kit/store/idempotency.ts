import { IDEMPOTENCY_TTL_MS } from "./schema";
import type { IdempotentResult } from "./types";

/** Idempotency-Key memory: a repeated key answers the stored response instead of applying again. */

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
