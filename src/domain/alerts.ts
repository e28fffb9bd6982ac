import { newId } from "../lib/ids";
import { log } from "../lib/log";

export interface AlertInput {
  tenantId: string | null;
  kind: string;
  severity: "info" | "warning" | "critical";
  message: string;
  details?: unknown;
  /** One open alert per key: a repeat bumps its counter instead of adding a row. */
  dedupeKey: string;
}

export function alertStatement(
  db: D1Database,
  alert: AlertInput,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO alerts (id, tenant_id, kind, severity, message, details, dedupe_key, occurrences, created_at, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT(dedupe_key) DO UPDATE SET occurrences = occurrences + 1, last_seen_at = excluded.last_seen_at,
         message = excluded.message, details = excluded.details`,
    )
    .bind(
      newId("alr"),
      alert.tenantId,
      alert.kind,
      alert.severity,
      alert.message,
      alert.details === undefined ? null : JSON.stringify(alert.details),
      alert.dedupeKey,
      now,
      now,
    );
}

export async function raiseAlert(db: D1Database, alert: AlertInput, now: number): Promise<void> {
  log(alert.severity === "critical" ? "error" : "warn", "alert.raised", {
    tenantId: alert.tenantId,
    kind: alert.kind,
    message: alert.message,
  });
  await alertStatement(db, alert, now).run();
}
