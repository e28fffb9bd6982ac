import type { Platform } from "../platforms/ids";
import type { AlertInput } from "./alerts";
import {
  affectedRanges,
  decideBookingAction,
  stayAsRanges,
  type BookingAction,
  type StoredBooking,
} from "./booking-decision";
import { datesToRanges } from "./date-ranges";
import type { DateRange, IsoDate } from "./dates";

/**
 * A channel booking's import, as values: which ledger steps one all-or-nothing batch takes
 * (store/bookings.ts turns them into statements; services/booking-import.ts runs them with the
 * compare-and-swap retry), and, when the stay does not fit, the conflict that is stored instead.
 */

export type ImportOutcome =
  | "created"
  | "modified"
  | "cancelled"
  | "details_updated"
  | "stale"
  | "conflict"
  | "stored_cancelled";

export interface ImportResult {
  outcome: ImportOutcome;
  bookingId: string;
  /** Nights whose availability changed (already written to the outbox). */
  ranges: DateRange[];
}

/** The booking's channel id belongs to another tenant: never touch it. */
export class CrossTenantBookingError extends Error {
  override name = "CrossTenantBookingError";
}

/** The stored row of a channel booking, as the import reads it. */
export interface StoredBookingRow extends StoredBooking {
  id: string;
  tenantId: string;
  version: number;
  channelBookingId: string;
}

/** What the plan needs of the channel's booking. */
export interface LedgerBooking {
  channelBookingId: string;
  status: "confirmed" | "cancelled";
  checkIn: IsoDate;
  checkOut: IsoDate;
  revision: number;
}

export type LedgerStatus = "confirmed" | "cancelled" | "conflict";

/** One statement (or a few, chunked) of the booking's batch, in batch order. */
export type LedgerStep =
  /** The booking row itself (first: booking_nights references it). */
  | { op: "write_booking"; status: LedgerStatus; conflictReason: string | null }
  /** Give back exactly the nights the booking holds. */
  | { op: "release" }
  /** Take these nights; the capacity CHECK fails the whole batch if one is full. */
  | { op: "claim"; nights: IsoDate[] }
  | { op: "outbox"; roomTypeId: string; ranges: DateRange[]; includeSource: boolean }
  /** The record that this event made this change (booking_changes). */
  | { op: "change"; outcome: ImportOutcome; status: LedgerStatus }
  | { op: "alert"; alert: AlertInput };

export interface ImportPlan {
  action: Exclude<BookingAction, { kind: "stale" }>;
  outcome: ImportOutcome;
  ranges: DateRange[];
  steps: LedgerStep[];
}

function outcomeOf(action: BookingAction, stored: StoredBookingRow | null): ImportOutcome {
  switch (action.kind) {
    case "stale":
      return "stale";
    case "update_details":
      return "details_updated";
    case "store_without_nights":
      return stored ? "cancelled" : "stored_cancelled";
    case "release":
      return "cancelled";
    case "claim":
      return stored ? "modified" : "created";
  }
}

/** The batch that applies the channel's booking, or null when it is stale (nothing to do). */
export function planImport(
  stored: StoredBookingRow | null,
  booking: LedgerBooking,
  roomTypeId: string,
): ImportPlan | null {
  const action = decideBookingAction(stored, { ...booking, roomTypeId });
  if (action.kind === "stale") return null;
  const ranges = affectedRanges(action);
  const status =
    action.kind === "claim" || action.kind === "update_details" ? "confirmed" : "cancelled";
  const steps: LedgerStep[] = [{ op: "write_booking", status, conflictReason: null }];
  if ((action.kind === "claim" || action.kind === "release") && action.release.length > 0) {
    if (stored) steps.push({ op: "release" });
  }
  if (action.kind === "claim") steps.push({ op: "claim", nights: action.claim });
  // Ranges are per room type; a move between room types touches both.
  const oldRoomType = stored?.roomTypeId ?? roomTypeId;
  if (action.kind === "claim" && stored && oldRoomType !== roomTypeId) {
    steps.push(
      {
        op: "outbox",
        roomTypeId: oldRoomType,
        ranges: datesToRanges(action.release),
        includeSource: false,
      },
      { op: "outbox", roomTypeId, ranges: datesToRanges(action.claim), includeSource: false },
    );
  } else {
    steps.push({ op: "outbox", roomTypeId: oldRoomType, ranges, includeSource: false });
  }
  const outcome = outcomeOf(action, stored);
  steps.push({ op: "change", outcome, status });
  return { action, outcome, ranges, steps };
}

export interface ConflictInput {
  stored: StoredBookingRow | null;
  booking: LedgerBooking;
  roomTypeId: string;
  /** The claim that did not fit. */
  action: Extract<BookingAction, { kind: "claim" }>;
  /** Its nights found full. */
  taken: IsoDate[];
  bookingId: string;
  tenantId: string;
  platform: Platform;
}

/**
 * The stay does not fit: store it as a conflict holding no nights (and free what it held), with a
 * critical alert; the source platform is pushed the truth too.
 */
export function planConflict(c: ConflictInput): { steps: LedgerStep[]; ranges: DateRange[] } {
  const { stored, booking, roomTypeId, action } = c;
  const reason = `nights already taken: ${datesToRanges(c.taken)
    .map((r) => (r.start === r.end ? r.start : `${r.start}..${r.end}`))
    .join(", ")}`;
  const freed = stored && action.release.length > 0 ? datesToRanges(action.release) : [];
  const stay = stayAsRanges(booking.checkIn, booking.checkOut);
  const steps: LedgerStep[] = freed.length > 0 ? [{ op: "release" }] : [];
  steps.push(
    { op: "write_booking", status: "conflict", conflictReason: reason },
    { op: "change", outcome: "conflict", status: "conflict" },
    {
      op: "outbox",
      roomTypeId: stored?.roomTypeId ?? roomTypeId,
      ranges: freed,
      includeSource: false,
    },
    // The source platform sold nights it should have shown closed: push the truth to it too.
    { op: "outbox", roomTypeId, ranges: stay, includeSource: true },
    { op: "alert", alert: conflictAlert(c, reason) },
  );
  return { steps, ranges: [...freed, ...stay] };
}

function conflictAlert(c: ConflictInput, reason: string): AlertInput {
  const { booking, platform } = c;
  return {
    tenantId: c.tenantId,
    kind: "booking_conflict",
    severity: "critical",
    message: `${platform} booking ${booking.channelBookingId} (${booking.checkIn} → ${booking.checkOut}) overlaps nights already sold: ${reason}`,
    details: {
      bookingId: c.bookingId,
      platform,
      channelBookingId: booking.channelBookingId,
      roomTypeId: c.roomTypeId,
      checkIn: booking.checkIn,
      checkOut: booking.checkOut,
      takenNights: c.taken,
    },
    dedupeKey: `booking_conflict:${platform}:${booking.channelBookingId}:${booking.revision}`,
  };
}
