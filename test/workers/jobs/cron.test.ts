import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runScheduled } from "../../../src/jobs/cron";
import { addDaysUtc, eventually, sandbox, seedPortfolio } from "../../support/fixtures";

describe("cron jobs", () => {
  it("pulls Booking.com reservations whose push notification was lost, and imports them once", async () => {
    const p = await seedPortfolio();
    const { reservation } = await sandbox<{ reservation: { reservation_id: string } }>(
      "POST",
      "/_sandbox/booking_com/reservations?deliver=none",
      {
        hotel_id: p.booking.hotelId,
        room_id: p.booking.roomId,
        start_date: addDaysUtc(15),
        end_date: addDaysUtc(17),
      },
    );
    const scheduledTime = Date.now();
    await runScheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env);
    // The same minute again (overlapping cron): the pull is keyed per minute, so it runs once.
    await runScheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env);
    const row = await eventually(
      () =>
        env.DB.prepare(`SELECT status FROM bookings WHERE channel_booking_id = ?`)
          .bind(reservation.reservation_id)
          .first<{ status: string }>(),
      { what: "pulled booking" },
    );
    expect(row.status).toBe("confirmed");
    // The pull that imported it leaves one event (written once it is done) and one sync log.
    const pulls = await eventually(
      async () => {
        const { results } = await env.DB.prepare(
          `SELECT status, outcome FROM channel_events WHERE connection_id = ? AND event_type = 'reservations.pull'`,
        )
          .bind(p.booking.connectionId)
          .all<{ status: string; outcome: string }>();
        return results.length > 0 ? results : null;
      },
      { what: "the pull's event" },
    );
    expect(pulls).toEqual([{ status: "done", outcome: `${reservation.reservation_id}: created` }]);
  });

  it("refuses a schedule it does not know without running anything", async () => {
    await expect(
      runScheduled(createScheduledController({ cron: "0 3 * * *" }), env),
    ).resolves.toBeUndefined();
  });
});
