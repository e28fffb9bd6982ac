import type { BookingStatus } from "./vocabulary";
import { coalesceRanges } from "./date-ranges";
import { nightsOf, stayRange, type DateRange, type IsoDate } from "./dates";

/** What the engine holds for a channel booking (null when it has never seen it). */
export interface StoredBooking {
  status: BookingStatus;
  roomTypeId: string;
  checkIn: IsoDate;
  checkOut: IsoDate;
  channelRevision: number;
}

/** The channel's current truth for the booking, resolved to an internal room type. */
export interface IncomingBooking {
  status: "confirmed" | "cancelled";
  roomTypeId: string;
  checkIn: IsoDate;
  checkOut: IsoDate;
  revision: number;
}

export type BookingAction =
  /** Older than what we have, or the same revision saying the same: change nothing. */
  | { kind: "stale" }
  /** Only guest/amount details changed; no nights move. */
  | { kind: "update_details" }
  /** Store it; hold no nights (first seen already cancelled, or a conflict cancelled). */
  | { kind: "store_without_nights"; status: "cancelled" }
  /** Claim these nights (and release the ones it held, if any) in one atomic batch. */
  | { kind: "claim"; release: IsoDate[]; claim: IsoDate[] }
  /** Release every night it holds. */
  | { kind: "release"; release: IsoDate[] };

/**
 * Decide how an incoming channel booking changes the ledger. Pure: the caller executes the
 * action as one D1 batch guarded by the stored version.
 */
export function decideBookingAction(
  stored: StoredBooking | null,
  incoming: IncomingBooking,
): BookingAction {
  const incomingNights = nightsOf(incoming.checkIn, incoming.checkOut);
  if (!stored) {
    return incoming.status === "cancelled"
      ? { kind: "store_without_nights", status: "cancelled" }
      : { kind: "claim", release: [], claim: incomingNights };
  }
  // Revision ordering: an older revision never overwrites a newer one. An equal one is stale only
  // if it says what is stored: Booking.com's revision is its LastModifyDateTime, to the second,
  // so a modification in the same second as the creation carries the same revision, and the
  // platform's answer (fetched just now) then wins. An unmapped booking was stored but never
  // applied, so its own revision may now be applied once.
  if (incoming.revision < stored.channelRevision) return { kind: "stale" };
  if (
    incoming.revision === stored.channelRevision &&
    stored.status !== "unmapped" &&
    sameContent(stored, incoming)
  ) {
    return { kind: "stale" };
  }

  const heldNights = stored.status === "confirmed" ? nightsOf(stored.checkIn, stored.checkOut) : [];
  if (incoming.status === "cancelled") {
    if (stored.status === "confirmed") return { kind: "release", release: heldNights };
    return { kind: "store_without_nights", status: "cancelled" };
  }
  const sameStay =
    stored.roomTypeId === incoming.roomTypeId &&
    stored.checkIn === incoming.checkIn &&
    stored.checkOut === incoming.checkOut;
  if (stored.status === "confirmed" && sameStay) return { kind: "update_details" };
  // A move, a reinstated cancellation, or a conflict trying again: claim the (new) stay.
  return { kind: "claim", release: heldNights, claim: incomingNights };
}

/** The same status (a conflict is a confirmed stay that found no room), room type and stay. */
function sameContent(stored: StoredBooking, incoming: IncomingBooking): boolean {
  const status =
    incoming.status === "cancelled"
      ? stored.status === "cancelled"
      : stored.status === "confirmed" || stored.status === "conflict";
  return (
    status &&
    stored.roomTypeId === incoming.roomTypeId &&
    stored.checkIn === incoming.checkIn &&
    stored.checkOut === incoming.checkOut
  );
}

/** The nights whose availability an action changes, as ranges for the ChannelGates. */
export function affectedRanges(action: BookingAction): DateRange[] {
  if (action.kind === "claim" || action.kind === "release") {
    const nights = [...action.release, ...(action.kind === "claim" ? action.claim : [])];
    return coalesceRanges(nights.map((n) => ({ start: n, end: n })));
  }
  return [];
}

export function stayAsRanges(checkIn: IsoDate, checkOut: IsoDate): DateRange[] {
  const r = stayRange(checkIn, checkOut);
  return r ? [r] : [];
}
