import { RECEIVED_LOG_SIZE, REQUEST_LOG_SIZE } from "./schema";
import type { NewReceivedBody, ReceivedBody, ReceivedQuery, RequestLogEntry } from "./types";

/** The request log and the received-body log of every platform call (see kit/gate.ts). */

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
