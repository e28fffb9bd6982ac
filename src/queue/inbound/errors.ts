import type { Platform } from "../../db/channels.schema";
import { PlatformError, type GateResult } from "../../platforms/types";

/** Another delivery of the same event holds the lease: come back later, do not process twice. */
export class LeaseHeldError extends Error {
  override name = "LeaseHeldError";
}

/** A platform call the ChannelGate did not let leave yet (rate limit, open circuit). */
export class GateHeldError extends PlatformError {
  constructor(
    platform: Platform,
    message: string,
    readonly heldUntil: number,
    retryAfterSeconds?: number,
  ) {
    super(platform, "rate_limited", message, undefined, retryAfterSeconds);
    this.name = "GateHeldError";
  }
}

/** A gate answer back into a value, or the classified PlatformError it carried. */
export function unwrapGate<T>(platform: Platform, result: GateResult<T>): T {
  if (result.ok) return result.value;
  const e = result.error;
  // The gate's messages already name the platform.
  const message = e.message.replace(`${platform}: `, "");
  if (e.heldUntil !== undefined) {
    throw new GateHeldError(platform, message, e.heldUntil, e.retryAfterSeconds);
  }
  throw new PlatformError(platform, e.kind, message, e.status, e.retryAfterSeconds);
}

/**
 * D1 itself failed — unavailable, overloaded, a reset or lost connection — not our data: the
 * answers D1 gives when it cannot serve (Cloudflare's D1 error list). A constraint or SQL error
 * is our own doing and is none of these.
 */
const STORAGE_FAILURES = [
  /D1 (?:DB )?is (?:overloaded|unavailable)/i,
  /Network connection lost/i,
  /storage (?:caused object to be reset|operation exceeded timeout)/i,
  /Cannot resolve D1 DB due to transient issue/i,
  /D1_RESET_DO/i,
  /D1_ERROR: internal error/i,
];

export function isStorageFailure(err: unknown): boolean {
  if (err instanceof PlatformError) return false;
  const texts = [err, (err as { cause?: unknown } | null)?.cause].map((e) =>
    e instanceof Error ? e.message : String(e),
  );
  return texts.some((t) => STORAGE_FAILURES.some((re) => re.test(t)));
}
