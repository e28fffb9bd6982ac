import { PlatformError } from "../../platforms/contract";
import { isStorageFailure as isD1Failure } from "../../store/errors";

/** Another delivery of the same event holds the lease: come back later, do not process twice. */
export class LeaseHeldError extends Error {
  override name = "LeaseHeldError";
}

/** D1 itself failed (store/errors.ts); a platform's answer never counts as one. */
export function isStorageFailure(err: unknown): boolean {
  return !(err instanceof PlatformError) && isD1Failure(err);
}
