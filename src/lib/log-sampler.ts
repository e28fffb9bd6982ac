import { log, type Level } from "./log";

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

/**
 * At most `limit` lines per key per window, so a flood of junk requests cannot flood the logs
 * (a line per request is what Workers Logs bills and an on-call engineer has to scroll past).
 * What it holds back is counted, and the next line it lets through says how many. Per isolate,
 * like all in-memory state; one entry per key, so keys must come from a fixed set.
 */
export class LogSampler {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** null: hold this line back. Otherwise write it, noting `suppressed` lines held back before. */
  admit(key: string): { suppressed: number } | null {
    const now = this.now();
    const current = this.windows.get(key);
    if (!current || now - current.start >= this.windowMs) {
      this.windows.set(key, { start: now, written: 1, suppressed: 0 });
      return { suppressed: current?.suppressed ?? 0 };
    }
    if (current.written >= this.limit) {
      current.suppressed += 1;
      return null;
    }
    current.written += 1;
    return { suppressed: 0 };
  }
}

/** `log()` through a sampler: `suppressed: n` is added when n lines of this key were dropped. */
export function logSampled(
  sampler: LogSampler,
  key: string,
  level: Level,
  event: string,
  fields: Record<string, unknown>,
): void {
  const admitted = sampler.admit(key);
  if (!admitted) return;
  log(level, event, admitted.suppressed ? { ...fields, suppressed: admitted.suppressed } : fields);
}
