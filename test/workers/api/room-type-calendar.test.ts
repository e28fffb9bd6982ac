import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { importChannelBooking } from "../../../src/services/booking-import";
import { addDays, localToday } from "../../../src/domain/dates";
import type { NightsChangedMessage } from "../../../src/queue/messages";
import { seedPortfolio, uniqueDigits, type Portfolio } from "../../support/fixtures";
import { fakeQueue } from "../../support/queue";
import { tokenFor, type Json } from "./operator-fixtures";

/**
 * PUT/GET /api/v1/room-types/{id}/calendar. The app runs in this isolate with a stand-in outbound
 * queue, so the test sees exactly what the relay sends (or makes the relay fail and reads the
 * outbox rows it leaves for the cron relay), and no ChannelGate is involved.
 */

interface OutboundQueue extends Queue<NightsChangedMessage> {
  down: boolean;
  sent: NightsChangedMessage[];
}

function outboundQueue(): OutboundQueue {
  const q: OutboundQueue = {
    down: false,
    sent: [],
    ...fakeQueue<NightsChangedMessage>((body) => {
      if (q.down) throw new Error("queue unavailable");
      q.sent.push(body);
    }),
  };
  return q;
}

const app = createApp();
let queue: OutboundQueue;
/** Env overrides for the next calls (a D1 that races, for one test). */
let envOverride: Partial<Env> = {};

async function call(method: string, path: string, token: string, body?: unknown) {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`http://engine.test${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { ...env, OUTBOUND_QUEUE: queue, ...envOverride },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Json };
}

async function expectCall(
  status: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
) {
  const res = await call(method, path, token, body);
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
  return res.json;
}

interface NightRow {
  night: string;
  capacity: number;
  booked: number;
  blocked: number;
  price_minor: number | null;
  updated_at: number;
}
interface OutboxRow {
  tenant_id: string;
  property_id: string;
  room_type_id: string;
  start_date: string;
  end_date: string;
  source_platform: string | null;
  include_source: number;
  cause_key: string;
  aspect: string;
}

async function nights(roomTypeId: string): Promise<NightRow[]> {
  const rows = await env.DB.prepare(
    `SELECT night, capacity, booked, blocked, price_minor, updated_at FROM inventory_nights
     WHERE room_type_id = ? ORDER BY night`,
  )
    .bind(roomTypeId)
    .all<NightRow>();
  return rows.results;
}

async function outboxRows(roomTypeId: string): Promise<OutboxRow[]> {
  const rows = await env.DB.prepare(
    `SELECT tenant_id, property_id, room_type_id, start_date, end_date, source_platform, include_source,
            cause_key, aspect
     FROM outbox WHERE room_type_id = ? ORDER BY aspect, start_date`,
  )
    .bind(roomTypeId)
    .all<OutboxRow>();
  return rows.results;
}

/** Night rows as "date blocked/price" for compact comparisons. */
const brief = (rows: NightRow[]) =>
  rows.map(
    (r) =>
      `${r.night} cap=${r.capacity} booked=${r.booked} blocked=${r.blocked} price=${r.price_minor}`,
  );

let p: Portfolio;
let admin: string;
/** The property's local today + n days (the seeded property is in Europe/Berlin). */
let d: (n: number) => string;
let calendar: string;

beforeEach(async () => {
  queue = outboundQueue();
  envOverride = {};
  p = await seedPortfolio({ units: 2 });
  admin = await tokenFor(p.tenantId);
  const today = localToday("Europe/Berlin", Date.now());
  d = (n) => addDays(today, n);
  calendar = `/api/v1/room-types/${p.roomTypeId}/calendar`;
});

describe("PUT /api/v1/room-types/{id}/calendar", () => {
  it("writes the changed nights and outbox rows per aspect, with coalesced ranges, in one go", async () => {
    queue.down = true; // the relay fails: the rows stay for the cron relay, the request succeeds
    const res = await expectCall(200, "PUT", calendar, admin, {
      nights: [
        { date: d(12), blocked: 1, price_minor: 15000 },
        { date: d(10), blocked: 1 },
        { date: d(11), blocked: 2 },
        { date: d(13), price_minor: 15000 },
        { date: d(20), price_minor: 9000 },
        { date: d(21), blocked: 0 }, // unchanged: no row, no outbox
        { date: d(22), price_minor: null }, // unchanged: no row, no outbox
      ],
    });
    expect(res.data).toEqual({
      room_type_id: p.roomTypeId,
      nights: 7,
      availability_changed: 3,
      price_changed: 3,
      cause_key: expect.stringMatching(/^calendar:[0-9a-f-]{36}$/),
    });
    expect(brief(await nights(p.roomTypeId))).toEqual([
      `${d(10)} cap=2 booked=0 blocked=1 price=null`,
      `${d(11)} cap=2 booked=0 blocked=2 price=null`,
      `${d(12)} cap=2 booked=0 blocked=1 price=15000`,
      `${d(13)} cap=2 booked=0 blocked=0 price=15000`,
      `${d(20)} cap=2 booked=0 blocked=0 price=9000`,
    ]);
    const common = {
      tenant_id: p.tenantId,
      property_id: p.propertyId,
      room_type_id: p.roomTypeId,
      source_platform: null,
      include_source: 1,
      cause_key: res.data.cause_key,
    };
    expect(await outboxRows(p.roomTypeId)).toEqual([
      { ...common, aspect: "availability", start_date: d(10), end_date: d(12) },
      { ...common, aspect: "price", start_date: d(12), end_date: d(13) },
      { ...common, aspect: "price", start_date: d(20), end_date: d(20) },
    ]);
    expect(queue.sent).toEqual([]);
  });

  it("relays the outbox right after commit: one message per aspect to every channel", async () => {
    const res = await expectCall(200, "PUT", calendar, admin, {
      nights: [
        { date: d(5), blocked: 1 },
        { date: d(6), blocked: 1 },
        { date: d(8), blocked: 1, price_minor: 13000 },
      ],
    });
    const causeKey = res.data.cause_key;
    const sent = [...queue.sent].sort((x, y) => x.aspects[0]!.localeCompare(y.aspects[0]!));
    expect(sent).toEqual([
      expect.objectContaining({
        kind: "nights.changed",
        tenantId: p.tenantId,
        propertyId: p.propertyId,
        roomTypeId: p.roomTypeId,
        sourcePlatform: null,
        includeSource: true,
        causeKey,
        aspects: ["availability"],
        ranges: expect.arrayContaining([
          { start: d(5), end: d(6) },
          { start: d(8), end: d(8) },
        ]),
      }),
      expect.objectContaining({
        causeKey,
        aspects: ["price"],
        ranges: [{ start: d(8), end: d(8) }],
      }),
    ]);
    expect(sent[0]!.ranges).toHaveLength(2);
    // Relayed rows are deleted; the cron relay has nothing left to send.
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
  });

  it("writes nothing for values that do not change", async () => {
    const body = {
      nights: [
        { date: d(3), blocked: 1, price_minor: 15000 },
        { date: d(4), price_minor: 11000 },
      ],
    };
    await expectCall(200, "PUT", calendar, admin, body);
    const before = await nights(p.roomTypeId);
    queue.sent = [];
    queue.down = true; // anything written would stay in the outbox

    const again = await expectCall(200, "PUT", calendar, admin, {
      nights: [...body.nights, { date: d(30), blocked: 0 }, { date: d(31), price_minor: null }],
    });
    expect(again.data).toMatchObject({ nights: 4, availability_changed: 0, price_changed: 0 });
    expect(await nights(p.roomTypeId)).toEqual(before); // same rows, same updated_at
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it("counts an override equal to the base price as no price change, but stores it", async () => {
    queue.down = true;
    const res = await expectCall(200, "PUT", calendar, admin, {
      nights: [{ date: d(7), price_minor: 12000 }], // the room type's base price
    });
    expect(res.data).toMatchObject({ availability_changed: 0, price_changed: 0 });
    expect(brief(await nights(p.roomTypeId))).toEqual([
      `${d(7)} cap=2 booked=0 blocked=0 price=12000`,
    ]);
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
  });

  it("clears a price override with null: back to the base price", async () => {
    await expectCall(200, "PUT", calendar, admin, {
      nights: [
        { date: d(50), price_minor: 15000, blocked: 1 },
        { date: d(51), price_minor: 15000 },
      ],
    });
    queue.down = true;
    const res = await expectCall(200, "PUT", calendar, admin, {
      nights: [{ date: d(50), price_minor: null }],
    });
    expect(res.data).toMatchObject({ availability_changed: 0, price_changed: 1 });
    expect(brief(await nights(p.roomTypeId))).toEqual([
      `${d(50)} cap=2 booked=0 blocked=1 price=null`,
      `${d(51)} cap=2 booked=0 blocked=0 price=15000`,
    ]);
    expect(await outboxRows(p.roomTypeId)).toMatchObject([
      { aspect: "price", start_date: d(50), end_date: d(50), cause_key: res.data.cause_key },
    ]);
    const got = await expectCall(200, "GET", `${calendar}?from=${d(50)}&to=${d(51)}`, admin);
    expect(got.data.map((n: Json) => n.price_minor)).toEqual([12000, 15000]);
  });

  it("rejects the whole request with 409 when a night would exceed its capacity", async () => {
    // A confirmed Airbnb booking holds d(30) and d(31): 1 of 2 units.
    await importChannelBooking(
      {
        db: env.DB,
        tenantId: p.tenantId,
        propertyId: p.propertyId,
        connectionId: p.airbnb.connectionId,
        platform: "airbnb",
        causeKey: `test:${crypto.randomUUID()}`,
        now: Date.now(),
      },
      {
        platform: "airbnb",
        channelBookingId: `HM${uniqueDigits(8)}`,
        externalRoomId: p.airbnb.listingId,
        status: "confirmed",
        checkIn: d(30),
        checkOut: d(32),
        revision: 1,
      },
      p.roomTypeId,
    );
    await env.DB.prepare(`DELETE FROM outbox WHERE room_type_id = ?`).bind(p.roomTypeId).run();
    const before = await nights(p.roomTypeId);
    expect(brief(before)).toEqual([
      `${d(30)} cap=2 booked=1 blocked=0 price=null`,
      `${d(31)} cap=2 booked=1 blocked=0 price=null`,
    ]);

    const res = await call("PUT", calendar, admin, {
      nights: [
        { date: d(29), blocked: 2, price_minor: 9900 }, // fits on its own
        { date: d(30), blocked: 1 }, // fits: 1 + 1 <= 2
        { date: d(31), blocked: 2 }, // 1 + 2 > 2
        { date: d(40), blocked: 3 }, // 0 + 3 > 2
      ],
    });
    expect(res.status, res.text).toBe(409);
    expect(res.json.error.code).toBe("conflict");
    expect(res.json.error.message).toContain(d(31));
    expect(res.json.error.message).toContain(d(40));
    expect(res.json.error.message).not.toContain(d(30));
    expect(res.json.error.details).toEqual([
      { path: "nights.2.blocked", message: `${d(31)}: booked 1 + blocked 2 > capacity 2` },
      { path: "nights.3.blocked", message: `${d(40)}: booked 0 + blocked 3 > capacity 2` },
    ]);
    expect(await nights(p.roomTypeId)).toEqual(before);
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it("answers 409, not 500, when a booking slips in between the check and the batch", async () => {
    const racingDb = {
      prepare: (q: string) => env.DB.prepare(q),
      batch: async (statements: D1PreparedStatement[]) => {
        // Two bookings land on d(60) just before the calendar batch runs.
        await env.DB.prepare(
          `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
           VALUES (?, ?, ?, 2, 2, 0, ?)`,
        )
          .bind(p.tenantId, p.roomTypeId, d(60), Date.now())
          .run();
        racingDb.batch = (s: D1PreparedStatement[]) => env.DB.batch(s);
        return env.DB.batch(statements);
      },
    };
    envOverride = { DB: racingDb as unknown as D1Database };
    const res = await call("PUT", calendar, admin, {
      nights: [
        { date: d(59), blocked: 1, price_minor: 20000 },
        { date: d(60), blocked: 1 },
      ],
    });
    expect(res.status, res.text).toBe(409);
    expect(res.json.error).toMatchObject({
      code: "conflict",
      details: [
        { path: "nights.1.blocked", message: `${d(60)}: booked 2 + blocked 1 > capacity 2` },
      ],
    });
    // The batch rolled back as a whole: d(59) untouched, no outbox rows.
    expect(brief(await nights(p.roomTypeId))).toEqual([
      `${d(60)} cap=2 booked=2 blocked=0 price=null`,
    ]);
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
  });

  describe("validation: 422 naming the problem, nothing written", () => {
    const cases: Array<[string, () => unknown, string, RegExp]> = [
      [
        "a duplicate date",
        () => ({
          nights: [
            { date: d(10), blocked: 1 },
            { date: d(11), blocked: 1 },
            { date: d(10), price_minor: 100 },
          ],
        }),
        "nights.2.date",
        /duplicate date \d{4}-\d{2}-\d{2} \(also nights\.0\)/,
      ],
      [
        "a date before yesterday",
        () => ({ nights: [{ date: d(-2), blocked: 1 }] }),
        "nights.0.date",
        /is outside/,
      ],
      [
        "a date beyond the sync horizon",
        () => ({
          nights: [
            { date: d(1), blocked: 1 },
            { date: d(366), blocked: 1 },
          ],
        }),
        "nights.1.date",
        /today \+ 365 days/,
      ],
      [
        "more than 1000 nights",
        () => ({ nights: Array.from({ length: 1001 }, (_, i) => ({ date: d(i), blocked: 1 })) }),
        "nights",
        /at most 1000 nights/,
      ],
      ["no nights", () => ({ nights: [] }), "nights", /at least one night/],
      [
        "a night with neither blocked nor price_minor",
        () => ({ nights: [{ date: d(10), blocked: 1 }, { date: d(11) }] }),
        "nights.1",
        /at least one of blocked, price_minor/,
      ],
      [
        "a date that does not exist",
        () => ({ nights: [{ date: "2027-02-30", blocked: 1 }] }),
        "nights.0.date",
        /YYYY-MM-DD/,
      ],
      [
        "negative blocked units",
        () => ({ nights: [{ date: d(10), blocked: -1 }] }),
        "nights.0.blocked",
        />=0|>= ?0|too small/i,
      ],
      [
        "a fractional price",
        () => ({ nights: [{ date: d(10), price_minor: 99.5 }] }),
        "nights.0.price_minor",
        /int/i,
      ],
    ];
    it.each(cases)("%s", async (_, body, path, message) => {
      queue.down = true;
      const res = await call("PUT", calendar, admin, body());
      expect(res.status, res.text).toBe(422);
      expect(res.json.error.code).toBe("validation_failed");
      expect(res.json.error.message).toContain(path);
      const issue = (res.json.error.details as Array<{ path: string; message: string }>).find(
        (i) => i.path === path,
      );
      expect(issue?.message, res.text).toMatch(message);
      expect(await nights(p.roomTypeId)).toEqual([]);
      expect(await outboxRows(p.roomTypeId)).toEqual([]);
    });

    it("accepts yesterday and the last night of the horizon", async () => {
      const res = await expectCall(200, "PUT", calendar, admin, {
        nights: [
          { date: d(-1), blocked: 1 },
          { date: d(365), blocked: 1 },
        ],
      });
      expect(res.data.availability_changed).toBe(2);
      expect((await nights(p.roomTypeId)).map((n) => n.night)).toEqual([d(-1), d(365)]);
    });

    it("refuses a price for a room type without a currency", async () => {
      const rt = `rt_nocur_${uniqueDigits(8)}`;
      await env.DB.prepare(
        `INSERT INTO room_types (id, tenant_id, property_id, name, units, created_at)
         VALUES (?, ?, ?, 'No currency', 1, ?)`,
      )
        .bind(rt, p.tenantId, p.propertyId, Date.now())
        .run();
      const res = await call("PUT", `/api/v1/room-types/${rt}/calendar`, admin, {
        nights: [{ date: d(10), price_minor: 5000 }],
      });
      expect(res.status, res.text).toBe(422);
      expect(res.json.error.details).toEqual([
        { path: "nights.0.price_minor", message: expect.stringContaining("no currency") },
      ]);
      expect(await nights(rt)).toEqual([]);
    });
  });

  it("is admin only: a read-only token gets 403 and writes nothing", async () => {
    const viewer = await tokenFor(p.tenantId, "read_only");
    const res = await call("PUT", calendar, viewer, { nights: [{ date: d(10), blocked: 1 }] });
    expect(res.status, res.text).toBe(403);
    expect(res.json.error.code).toBe("forbidden");
    expect(await nights(p.roomTypeId)).toEqual([]);
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
  });

  it("answers 404 for another tenant's room type (and an unknown one), touching nothing", async () => {
    const other = await seedPortfolio();
    const otherAdmin = await tokenFor(other.tenantId);
    const body = { nights: [{ date: d(10), blocked: 1, price_minor: 1 }] };
    for (const method of ["PUT", "GET"]) {
      const path = method === "GET" ? `${calendar}?from=${d(10)}&to=${d(11)}` : calendar;
      const res = await call(method, path, otherAdmin, method === "PUT" ? body : undefined);
      expect(res.status, res.text).toBe(404);
      expect(res.json.error.code).toBe("not_found");
      expect(res.text).not.toContain(p.tenantId);
      expect(res.text).not.toContain(p.propertyId);
    }
    const unknown = await call("PUT", `/api/v1/room-types/rt_nosuchthing/calendar`, admin, body);
    expect(unknown.status).toBe(404);
    expect(await nights(p.roomTypeId)).toEqual([]);
    expect(await outboxRows(p.roomTypeId)).toEqual([]);
  });
});

describe("GET /api/v1/room-types/{id}/calendar", () => {
  it("returns every date of the range with effective values, untouched dates from the room type", async () => {
    await importChannelBooking(
      {
        db: env.DB,
        tenantId: p.tenantId,
        propertyId: p.propertyId,
        connectionId: p.airbnb.connectionId,
        platform: "airbnb",
        causeKey: `test:${crypto.randomUUID()}`,
        now: Date.now(),
      },
      {
        platform: "airbnb",
        channelBookingId: `HM${uniqueDigits(8)}`,
        externalRoomId: p.airbnb.listingId,
        status: "confirmed",
        checkIn: d(2),
        checkOut: d(3),
        revision: 1,
      },
      p.roomTypeId,
    );
    await expectCall(200, "PUT", calendar, admin, {
      nights: [
        { date: d(2), blocked: 1 },
        { date: d(3), price_minor: 15000 },
        { date: d(4), blocked: 2, price_minor: 8000 },
      ],
    });
    const viewer = await tokenFor(p.tenantId, "read_only");
    const res = await expectCall(200, "GET", `${calendar}?from=${d(1)}&to=${d(5)}`, viewer);
    const night = (date: string, o: Partial<Json> = {}) => ({
      date,
      capacity: 2,
      booked: 0,
      blocked: 0,
      available: 2,
      price_minor: 12000,
      currency: "EUR",
      ...o,
    });
    expect(res.data).toEqual([
      night(d(1)),
      night(d(2), { booked: 1, blocked: 1, available: 0 }),
      night(d(3), { price_minor: 15000 }),
      night(d(4), { blocked: 2, available: 0, price_minor: 8000 }),
      night(d(5)),
    ]);
  });

  it("takes one day and up to 366 days", async () => {
    const one = await expectCall(200, "GET", `${calendar}?from=${d(0)}&to=${d(0)}`, admin);
    expect(one.data).toHaveLength(1);
    const year = await expectCall(200, "GET", `${calendar}?from=${d(0)}&to=${d(365)}`, admin);
    expect(year.data).toHaveLength(366);
    expect(year.data.at(-1).date).toBe(d(365));
  });

  it.each([
    ["a range over 366 days", () => `from=${d(0)}&to=${d(366)}`, "to", /366 days/],
    ["to before from", () => `from=${d(5)}&to=${d(4)}`, "to", /on or after from/],
    ["a malformed from", () => `from=2026-13-01&to=${d(4)}`, "from", /YYYY-MM-DD/],
    ["a missing to", () => `from=${d(0)}`, "to", /.+/],
  ])("answers 400 naming the query field for %s", async (_, query, field, message) => {
    const res = await call("GET", `${calendar}?${query()}`, admin);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.code).toBe("validation_failed");
    expect(res.json.error.message).toContain(`query is invalid: ${field}`);
    const issue = (res.json.error.details as Array<{ path: string; message: string }>).find(
      (i) => i.path === field,
    );
    expect(issue?.message, res.text).toMatch(message);
  });
});
