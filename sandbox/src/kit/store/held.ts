import type { HeldDelivery } from "./types";

/** Webhook deliveries held back by the reorder_webhooks fault until a flush. */

export function holdDeliveries(sql: SqlStorage, deliveries: HeldDelivery[]): void {
  for (const d of deliveries) sql.exec("INSERT INTO held (url, body) VALUES (?, ?)", d.url, d.body);
}

/** Remove and return every held delivery, newest first (the reordering). */
export function takeHeld(sql: SqlStorage): HeldDelivery[] {
  const rows = sql.exec("SELECT url, body FROM held ORDER BY id DESC").toArray();
  sql.exec("DELETE FROM held");
  return rows.map((r) => ({ url: String(r.url), body: String(r.body) }));
}
