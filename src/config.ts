/** Engine settings from Worker vars, with the defaults documented in the README. */
export interface EngineConfig {
  webhookToleranceSeconds: number;
  webhookMaxBytes: number;
  syncHorizonDays: number;
  /** Queue redeliveries before the dead-letter queue; must match max_retries in wrangler.toml. */
  maxRetries: number;
}

function intVar(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = value === undefined || value === "" ? NaN : Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

export function engineConfig(env: object): EngineConfig {
  const vars = env as Record<string, unknown>;
  const s = (k: string) => (typeof vars[k] === "string" ? (vars[k] as string) : undefined);
  return {
    webhookToleranceSeconds: intVar(s("WEBHOOK_TOLERANCE_SECONDS"), 300, 1, 3600),
    webhookMaxBytes: intVar(s("WEBHOOK_MAX_BYTES"), 65_536, 1024, 65_536),
    syncHorizonDays: intVar(s("SYNC_HORIZON_DAYS"), 365, 1, 730),
    maxRetries: 5,
  };
}
