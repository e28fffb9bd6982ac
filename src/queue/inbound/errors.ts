import { PlatformError } from "../../platforms/contract";

/** Another delivery of the same event holds the lease: come back later, do not process twice. */
export class LeaseHeldError extends Error {
  override name = "LeaseHeldError";
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
