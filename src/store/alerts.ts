import type { AlertInput } from "../domain/alerts";
import { newId } from "../lib/ids";
import { log } from "../lib/log";

export type { AlertInput };

/**
 * One alert, or a repeat of the open one with its key (occurrences + 1), as a statement for the
 * caller's one D1 batch: the ledger writes an alert in the same all-or-nothing batch as the change
 * it is about, so this stays a raw D1 statement that batch can carry beside its own.
 */
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

/** Log the alert and store it on its own (one D1 call). */
export async function raiseAlert(db: D1Database, alert: AlertInput, now: number): Promise<void> {
  log(alert.severity === "critical" ? "error" : "warn", "alert.raised", {
    tenantId: alert.tenantId,
    kind: alert.kind,
    message: alert.message,
  });
  await alertStatement(db, alert, now).run();
}
