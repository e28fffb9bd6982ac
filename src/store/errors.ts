/**
 * What a failed D1 statement means, in one place. D1 reports SQLite's text, sometimes wrapped in a
 * `cause`, so every check reads both. The ledger's guards are named so a violation says which rule
 * held: `inventory_nights_within_capacity` (a night would be over capacity), `write_guards.ok` (a
 * compare-and-swap lost to another writer).
 */

function texts(err: unknown): string[] {
  return [err, (err as { cause?: unknown } | null)?.cause].map((e) =>
    e instanceof Error ? e.message : String(e),
  );
}

/** A unique index refused the row (another live owner, a duplicate key). */
export function isUniqueViolation(err: unknown): boolean {
  return texts(err).some((t) => /UNIQUE constraint failed/i.test(t));
}

/** The capacity check refused a night: booked + blocked would exceed the room type's units. */
export function isCapacityViolation(err: unknown): boolean {
  return texts(err).some((t) => t.includes("inventory_nights_within_capacity"));
}

/**
 * Another writer got there first: the write guard failed (a version moved under us) or the
 * booking's unique (source, channel booking id) index took the other writer's insert.
 */
export function isConcurrentWrite(err: unknown): boolean {
  return texts(err).some(
    (t) =>
      t.includes("write_guards.ok") || t.includes("bookings.source, bookings.channel_booking_id"),
  );
}

/**
 * D1 itself failed — unavailable, overloaded, a reset or lost connection — not our data: the
 * answers D1 gives when it cannot serve (Cloudflare's D1 error list). A constraint or SQL error is
 * our own doing and is none of these.
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
  return texts(err).some((t) => STORAGE_FAILURES.some((re) => re.test(t)));
}
