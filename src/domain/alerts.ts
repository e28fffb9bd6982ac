/** An alert as the engine raises it; store/alerts.ts writes it. */
export interface AlertInput {
  tenantId: string | null;
  kind: string;
  severity: "info" | "warning" | "critical";
  message: string;
  details?: unknown;
  /** One open alert per key: a repeat bumps its counter instead of adding a row. */
  dedupeKey: string;
}
