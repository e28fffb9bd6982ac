import {
  CrossTenantBookingError,
  planConflict,
  planImport,
  type ImportResult,
  type StoredBookingRow,
} from "../domain/booking-import";
import type { BookingAction } from "../domain/booking-decision";
import { newId } from "../lib/ids";
import type { ChannelBooking } from "../platforms/contract";
import { fullNights, ledgerBatch, loadStoredBooking, type LedgerContext } from "../store/bookings";
import { isCapacityViolation, isConcurrentWrite } from "../store/errors";

export { CrossTenantBookingError };
export type { ImportOutcome, ImportResult } from "../domain/booking-import";

/**
 * Store a channel booking and move its nights in the ledger, atomically and idempotently: the
 * plan (domain/booking-import.ts) as one guarded batch (store/bookings.ts), retried when another
 * writer moved the stored version first.
 */

/** Where an import writes: the ledger batch's context (store/bookings.ts) before the booking. */
export type ImportScope = Pick<
  LedgerContext,
  "tenantId" | "propertyId" | "connectionId" | "platform" | "causeKey" | "now"
> & { db: D1Database };

const MAX_CAS_ATTEMPTS = 5;

/**
 * A booking whose nights are already taken is stored as a conflict with an alert: never dropped,
 * never double-sold.
 */
export async function importChannelBooking(
  scope: ImportScope,
  booking: ChannelBooking,
  roomTypeId: string,
  /** The stored row as just read by loadStoredBookings (null: none), to skip reading it again. */
  preloaded?: StoredBookingRow | null,
): Promise<ImportResult> {
  for (let attempt = 1; ; attempt++) {
    const stored =
      attempt === 1 && preloaded !== undefined
        ? preloaded
        : await loadStoredBooking(scope.db, scope.platform, booking.channelBookingId);
    if (stored && stored.tenantId !== scope.tenantId) {
      throw new CrossTenantBookingError(
        `${scope.platform} booking ${booking.channelBookingId} belongs to another tenant`,
      );
    }
    const bookingId = stored?.id ?? newId("bk");
    const plan = planImport(stored, booking, roomTypeId);
    if (!plan) return { outcome: "stale", bookingId, ranges: [] };
    const { db, ...ids } = scope;
    const ctx: LedgerContext = { ...ids, bookingId, booking, roomTypeId, stored };
    try {
      await db.batch(ledgerBatch(db, ctx, plan.steps));
      return { outcome: plan.outcome, bookingId, ranges: plan.ranges };
    } catch (err) {
      if (isConcurrentWrite(err) && attempt < MAX_CAS_ATTEMPTS) continue;
      if (!isCapacityViolation(err) || plan.action.kind !== "claim") throw err;
      const conflict = await storeConflict(db, ctx, plan.action, attempt < MAX_CAS_ATTEMPTS);
      if (conflict) return conflict;
    }
  }
}

/**
 * The stay does not fit: store it as a conflict holding no nights (and free what it held). Null
 * when another writer moved the booking meanwhile and the import may start over.
 */
async function storeConflict(
  db: D1Database,
  ctx: LedgerContext,
  action: Extract<BookingAction, { kind: "claim" }>,
  mayRetry: boolean,
): Promise<ImportResult | null> {
  const taken = await fullNights(db, ctx.roomTypeId, action.claim);
  const conflict = planConflict({ ...ctx, action, taken });
  try {
    await db.batch(ledgerBatch(db, ctx, conflict.steps));
    return { outcome: "conflict", bookingId: ctx.bookingId, ranges: conflict.ranges };
  } catch (err) {
    if (isConcurrentWrite(err) && mayRetry) return null;
    throw err;
  }
}
