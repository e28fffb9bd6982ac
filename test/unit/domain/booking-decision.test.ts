import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideBookingAction,
  type IncomingBooking,
  type StoredBooking,
} from "../../../src/domain/booking-decision";
import { addDays, nightsOf } from "../../../src/domain/dates";

const stay = fc
  .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 14 }))
  .map(([s, n]) => ({ checkIn: addDays("2027-03-01", s), checkOut: addDays("2027-03-01", s + n) }));
const incoming = fc.record({
  status: fc.constantFrom("confirmed" as const, "cancelled" as const),
  roomTypeId: fc.constantFrom("rt_a", "rt_b"),
  revision: fc.integer({ min: 1, max: 20 }),
  stay,
});
const toIncoming = (i: {
  status: "confirmed" | "cancelled";
  roomTypeId: string;
  revision: number;
  stay: { checkIn: string; checkOut: string };
}): IncomingBooking => ({
  status: i.status,
  roomTypeId: i.roomTypeId,
  revision: i.revision,
  ...i.stay,
});

/** Apply a sequence of deliveries through the decision function, tracking the nights held. */
function replay(deliveries: IncomingBooking[]) {
  let stored: StoredBooking | null = null;
  let held: string[] = [];
  for (const d of deliveries) {
    const action = decideBookingAction(stored, d);
    if (action.kind === "stale") continue;
    if (action.kind === "claim") {
      expect([...action.release].sort()).toEqual([...held].sort());
      held = action.claim;
    } else if (action.kind === "release") {
      expect([...action.release].sort()).toEqual([...held].sort());
      held = [];
    }
    stored = {
      status:
        action.kind === "claim" || action.kind === "update_details" ? "confirmed" : "cancelled",
      roomTypeId: d.roomTypeId,
      checkIn: d.checkIn,
      checkOut: d.checkOut,
      channelRevision: d.revision,
    };
  }
  return { stored, held };
}

describe("booking decisions", () => {
  it("end in the state of the newest revision whatever the delivery order, with duplicates", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(incoming, { minLength: 1, maxLength: 8, selector: (i) => i.revision }),
        fc.integer({ min: 0, max: 1000 }),
        (events, seed) => {
          const inOrder = [...events].sort((a, b) => a.revision - b.revision).map(toIncoming);
          // A deterministic shuffle with duplicates, as an at-least-once, unordered queue delivers.
          const shuffled = [...inOrder, ...inOrder.slice(0, seed % (inOrder.length + 1))]
            .map((e, i) => ({ e, k: (i * 7919 + seed) % 1009 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const newest = inOrder[inOrder.length - 1]!;
          const { stored, held } = replay(shuffled);
          // Whatever arrived first, the final record reflects the newest revision only if it was
          // applied; since the newest always arrives, it always is.
          expect(stored?.channelRevision).toBe(newest.revision);
          expect(stored?.status).toBe(newest.status);
          expect(held.sort()).toEqual(
            newest.status === "confirmed" ? nightsOf(newest.checkIn, newest.checkOut) : [],
          );
        },
      ),
    );
  });

  const storedAt10: StoredBooking = {
    status: "confirmed",
    roomTypeId: "rt_a",
    checkIn: "2027-03-01",
    checkOut: "2027-03-03",
    channelRevision: 10,
  };
  const same = { ...storedAt10, status: "confirmed" as const, revision: 10 };

  it("never applies an older revision, nor an equal one that says what is stored", () => {
    expect(decideBookingAction(storedAt10, { ...same, status: "cancelled", revision: 9 })).toEqual({
      kind: "stale",
    });
    expect(decideBookingAction(storedAt10, same)).toEqual({ kind: "stale" });
    // A conflict stored for this revision is not tried again by the same revision.
    expect(decideBookingAction({ ...storedAt10, status: "conflict" }, same)).toEqual({
      kind: "stale",
    });
  });

  it.each([
    ["a cancellation", { status: "cancelled" as const }, "release"],
    ["a move", { checkIn: "2027-03-02", checkOut: "2027-03-05" }, "claim"],
    ["another room type", { roomTypeId: "rt_b" }, "claim"],
  ])(
    "applies %s in the same second as the stored revision (Booking.com revisions are whole seconds)",
    (_, change, kind) => {
      expect(decideBookingAction(storedAt10, { ...same, ...change }).kind).toBe(kind);
    },
  );

  it("treats a detail-only change as no night movement", () => {
    const stored: StoredBooking = {
      status: "confirmed",
      roomTypeId: "rt_a",
      checkIn: "2027-03-01",
      checkOut: "2027-03-03",
      channelRevision: 1,
    };
    expect(
      decideBookingAction(stored, {
        status: "confirmed",
        roomTypeId: "rt_a",
        checkIn: "2027-03-01",
        checkOut: "2027-03-03",
        revision: 2,
      }),
    ).toEqual({ kind: "update_details" });
  });
});
