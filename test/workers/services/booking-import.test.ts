import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { importChannelBooking, type ImportScope } from "../../../src/services/booking-import";
import type { ChannelBooking } from "../../../src/platforms/contract";
import { addDaysUtc, seedPortfolio, uniqueDigits, type Portfolio } from "../../support/fixtures";

let p: Portfolio;
let abId: string;
/** Channel booking ids are global per platform, so each test uses its own. */
const bcId = (n: number) => `${abId.slice(2)}${n}`;
beforeEach(async () => {
  p = await seedPortfolio();
  abId = `HM${uniqueDigits(8)}`;
});

const scope = (
  platform: "airbnb" | "booking_com",
  causeKey = crypto.randomUUID(),
): ImportScope => ({
  db: env.DB,
  tenantId: p.tenantId,
  propertyId: p.propertyId,
  connectionId: platform === "airbnb" ? p.airbnb.connectionId : p.booking.connectionId,
  platform,
  causeKey,
  now: Date.now(),
});

const booking = (over: Partial<ChannelBooking> = {}): ChannelBooking => ({
  platform: "airbnb",
  channelBookingId: abId,
  externalRoomId: p.airbnb.listingId,
  status: "confirmed",
  checkIn: addDaysUtc(10),
  checkOut: addDaysUtc(13),
  guestName: "Ada Lovelace",
  revision: 1000,
  ...over,
});

async function ledger() {
  const rows = await env.DB.prepare(
    `SELECT night, booked FROM inventory_nights WHERE room_type_id = ? AND booked > 0 ORDER BY night`,
  )
    .bind(p.roomTypeId)
    .all<{ night: string; booked: number }>();
  return rows.results.map((r) => `${r.night}:${r.booked}`);
}

async function stored(channelBookingId: string) {
  return env.DB.prepare(`SELECT * FROM bookings WHERE channel_booking_id = ?`)
    .bind(channelBookingId)
    .first<{
      status: string;
      check_in: string;
      check_out: string;
      version: number;
      conflict_reason: string | null;
    }>();
}

const nights = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${addDaysUtc(from + i)}:1`);

describe("importing channel bookings into the ledger", () => {
  it("claims exactly the nights of the stay", async () => {
    const r = await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    expect(r.outcome).toBe("created");
    expect(await ledger()).toEqual(nights(10, 13));
    expect(r.ranges).toEqual([{ start: addDaysUtc(10), end: addDaysUtc(12) }]);
  });

  it("imports the same revision twice as one booking and one claim", async () => {
    await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    const again = await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    expect(again.outcome).toBe("stale");
    const count = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE channel_booking_id = ?`,
    )
      .bind(abId)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
    expect(await ledger()).toEqual(nights(10, 13));
  });

  it("moves the nights of a modification atomically", async () => {
    await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    const r = await importChannelBooking(
      scope("airbnb"),
      booking({ checkIn: addDaysUtc(12), checkOut: addDaysUtc(15), revision: 2000 }),
      p.roomTypeId,
    );
    expect(r.outcome).toBe("modified");
    expect(await ledger()).toEqual(nights(12, 15));
    expect((await stored(abId))?.version).toBe(2);
  });

  it("frees exactly its nights on cancellation, and a repeated cancellation frees nothing more", async () => {
    await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    await importChannelBooking(
      scope("booking_com"),
      booking({
        platform: "booking_com",
        channelBookingId: bcId(1),
        externalRoomId: p.booking.roomId,
        checkIn: addDaysUtc(13),
        checkOut: addDaysUtc(14),
      }),
      p.roomTypeId,
    );
    const cancel = await importChannelBooking(
      scope("airbnb"),
      booking({ status: "cancelled", revision: 3000 }),
      p.roomTypeId,
    );
    expect(cancel.outcome).toBe("cancelled");
    expect(await ledger()).toEqual(nights(13, 14));
    await importChannelBooking(
      scope("airbnb"),
      booking({ status: "cancelled", revision: 4000 }),
      p.roomTypeId,
    );
    expect(await ledger()).toEqual(nights(13, 14));
  });

  it("ends in the right state when the cancellation arrives before the older modification", async () => {
    await importChannelBooking(scope("airbnb"), booking({ revision: 1000 }), p.roomTypeId);
    await importChannelBooking(
      scope("airbnb"),
      booking({ status: "cancelled", revision: 3000 }),
      p.roomTypeId,
    );
    const late = await importChannelBooking(
      scope("airbnb"),
      booking({ checkIn: addDaysUtc(20), checkOut: addDaysUtc(22), revision: 2000 }),
      p.roomTypeId,
    );
    expect(late.outcome).toBe("stale");
    expect((await stored(abId))?.status).toBe("cancelled");
    expect(await ledger()).toEqual([]);
  });

  it("stores a booking whose nights are taken as a conflict with a critical alert, holding nothing", async () => {
    await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    const clash = await importChannelBooking(
      scope("booking_com"),
      booking({
        platform: "booking_com",
        channelBookingId: bcId(2),
        externalRoomId: p.booking.roomId,
        checkIn: addDaysUtc(12),
        checkOut: addDaysUtc(14),
      }),
      p.roomTypeId,
    );
    expect(clash.outcome).toBe("conflict");
    const row = await stored(bcId(2));
    expect(row?.status).toBe("conflict");
    expect(row?.conflict_reason).toBe(`nights already taken: ${addDaysUtc(12)}`);
    expect(await ledger()).toEqual(nights(10, 13));
    const alert = await env.DB.prepare(
      `SELECT severity, kind FROM alerts WHERE tenant_id = ? AND kind = 'booking_conflict'`,
    )
      .bind(p.tenantId)
      .first();
    expect(alert).toEqual({ severity: "critical", kind: "booking_conflict" });
  });

  it("keeps the old nights when a modification would overbook, and flags the conflict", async () => {
    await importChannelBooking(scope("airbnb"), booking(), p.roomTypeId);
    await importChannelBooking(
      scope("booking_com"),
      booking({
        platform: "booking_com",
        channelBookingId: bcId(3),
        externalRoomId: p.booking.roomId,
        checkIn: addDaysUtc(20),
        checkOut: addDaysUtc(22),
      }),
      p.roomTypeId,
    );
    const move = await importChannelBooking(
      scope("airbnb"),
      booking({ checkIn: addDaysUtc(19), checkOut: addDaysUtc(21), revision: 2000 }),
      p.roomTypeId,
    );
    // The guest moved on Airbnb: the old nights are free again, the new ones clash.
    expect(move.outcome).toBe("conflict");
    expect(await ledger()).toEqual(nights(20, 22));
    expect((await stored(abId))?.status).toBe("conflict");
  });

  it("lets exactly one of two concurrent bookings for the same nights win", async () => {
    const results = await Promise.all([
      importChannelBooking(
        scope("airbnb"),
        booking({ channelBookingId: `${abId.slice(0, 9)}1` }),
        p.roomTypeId,
      ),
      importChannelBooking(
        scope("booking_com"),
        booking({
          platform: "booking_com",
          channelBookingId: bcId(9),
          externalRoomId: p.booking.roomId,
        }),
        p.roomTypeId,
      ),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(["conflict", "created"]);
    expect(await ledger()).toEqual(nights(10, 13));
  });

  it("sells a hotel room type up to its units and no further", async () => {
    const hotel = await seedPortfolio({ units: 2 });
    const s = (id: string) =>
      importChannelBooking(
        {
          ...scope("airbnb"),
          tenantId: hotel.tenantId,
          propertyId: hotel.propertyId,
          connectionId: hotel.airbnb.connectionId,
        },
        booking({ channelBookingId: id }),
        hotel.roomTypeId,
      );
    expect((await s(`${abId.slice(0, 9)}1`)).outcome).toBe("created");
    expect((await s(`${abId.slice(0, 9)}2`)).outcome).toBe("created");
    expect((await s(`${abId.slice(0, 9)}3`)).outcome).toBe("conflict");
  });

  it("writes the changed nights to the outbox in the same batch", async () => {
    const sc = scope("airbnb", "cause-1");
    await importChannelBooking(sc, booking(), p.roomTypeId);
    const rows = await env.DB.prepare(
      `SELECT start_date, end_date, source_platform FROM outbox WHERE cause_key = 'cause-1'`,
    ).all();
    expect(rows.results).toEqual([
      { start_date: addDaysUtc(10), end_date: addDaysUtc(12), source_platform: "airbnb" },
    ]);
  });
});
