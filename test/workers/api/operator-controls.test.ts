import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { seedPortfolio, type Portfolio } from "../../support/fixtures";
import {
  api,
  expectApi,
  seedDeadLetter,
  seedEvent,
  seedSyncLog,
  SIGNATURE,
  tokenFor,
  webhookMessageOf,
  type Json,
} from "./operator-fixtures";

/**
 * Operator controls (issue 4 §4) over rows written straight to D1: listing with filters, sorting
 * and pagination; the state rules of retry, replay and ignore; batch retry; dead letters; sync
 * logs; read-only tokens. Retried events here name an unknown listing, so the consumer that picks
 * them up files them as `unmapped` and changes nothing else. The sandbox-driven replay and retry
 * are in operator-replay.test.ts; other tenants' ids in tenant-isolation.test.ts.
 */

const ids = (page: Json) => (page.data as Json[]).map((e) => e.id as string);

/** Every page of a list, following next_cursor. */
async function allPages(path: string, token: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await expectApi(
      200,
      "GET",
      cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path,
      token,
    );
    pages.push(ids(page));
    cursor = page.next_cursor as string | null;
  } while (cursor && pages.length < 20);
  return pages;
}

async function eventRow(id: string) {
  return env.DB.prepare(`SELECT status, attempts, outcome FROM channel_events WHERE id = ?`)
    .bind(id)
    .first<{ status: string; attempts: number; outcome: string | null }>();
}

async function deadLetterRow(id: string) {
  return env.DB.prepare(
    `SELECT resolved_at, resolution, resolution_note FROM dead_letters WHERE id = ?`,
  )
    .bind(id)
    .first<{
      resolved_at: number | null;
      resolution: string | null;
      resolution_note: string | null;
    }>();
}

const attemptLog = [
  { attempt: 1, at: 1_700_000_000_000, error: "HTTP 500 from airbnb" },
  { attempt: 2, at: 1_700_000_002_000, error: "HTTP 503 from airbnb" },
];

describe("GET /api/v1/events", () => {
  let p: Portfolio;
  let admin: string;
  const e = {} as Record<
    "failed" | "done" | "ignored" | "retrying" | "outbound" | "orphan" | "foreign",
    string
  >;
  const base = Date.now() - 1_000_000;

  beforeAll(async () => {
    p = await seedPortfolio();
    admin = await tokenFor(p.tenantId);
    const own = { tenantId: p.tenantId };
    const airbnb = { ...own, connectionId: p.airbnb.connectionId, propertyId: p.propertyId };
    e.failed = (
      await seedEvent({
        ...airbnb,
        status: "failed",
        attempts: 2,
        attemptLog,
        lastError: "HTTP 503 from airbnb",
        receivedAt: base + 1000,
        updatedAt: base + 5000,
      })
    ).id;
    e.done = (
      await seedEvent({
        ...own,
        connectionId: p.booking.connectionId,
        propertyId: p.propertyId,
        platform: "booking_com",
        eventType: "reservation.modified",
        status: "done",
        receivedAt: base + 2000,
        updatedAt: base + 2000,
      })
    ).id;
    e.ignored = (
      await seedEvent({
        ...own,
        status: "ignored",
        receivedAt: base + 3000,
        updatedAt: base + 9000,
      })
    ).id;
    e.retrying = (
      await seedEvent({
        ...own,
        status: "retrying",
        receivedAt: base + 4000,
        updatedAt: base + 4000,
      })
    ).id;
    e.outbound = (
      await seedEvent({
        ...own,
        direction: "outbound",
        eventType: "availability.push",
        status: "done",
        webhook: false,
        receivedAt: base + 5000,
        updatedAt: base + 1000,
      })
    ).id;
    // Never resolved to a tenant, and another tenant's: neither is ever listed.
    e.orphan = (await seedEvent({ tenantId: null, status: "failed", receivedAt: base + 1500 })).id;
    const other = await seedPortfolio();
    e.foreign = (await seedEvent({ tenantId: other.tenantId, receivedAt: base + 1500 })).id;
  });

  it("pages newest received first by default, and never shows other tenants' or unresolved events", async () => {
    expect(await allPages("/api/v1/events?limit=2", admin)).toEqual([
      [e.outbound, e.retrying],
      [e.ignored, e.done],
      [e.failed],
    ]);
  });

  it("sorts by updated_at, ascending or descending, across pages", async () => {
    expect(
      (await allPages("/api/v1/events?limit=2&sort=updated_at&order=asc", admin)).flat(),
    ).toEqual([e.outbound, e.done, e.retrying, e.failed, e.ignored]);
    expect((await allPages("/api/v1/events?limit=3&sort=updated_at", admin)).flat()).toEqual([
      e.ignored,
      e.failed,
      e.retrying,
      e.done,
      e.outbound,
    ]);
    expect((await allPages("/api/v1/events?limit=1&order=asc", admin)).flat()).toEqual([
      e.failed,
      e.done,
      e.ignored,
      e.retrying,
      e.outbound,
    ]);
  });

  it("filters by status, platform, event type, direction, property, connection and time range", async () => {
    const list = async (q: string) =>
      ids(await expectApi(200, "GET", `/api/v1/events?${q}`, admin));
    expect(await list("status=failed")).toEqual([e.failed]);
    expect(await list("platform=booking_com")).toEqual([e.done]);
    expect(await list("event_type=reservation.modified")).toEqual([e.done]);
    expect(await list("direction=outbound")).toEqual([e.outbound]);
    expect(await list(`property_id=${p.propertyId}`)).toEqual([e.done, e.failed]);
    expect(await list(`connection_id=${p.airbnb.connectionId}`)).toEqual([e.failed]);
    expect(await list(`from=${base + 2000}&to=${base + 4000}`)).toEqual([e.ignored, e.done]);
    expect(await list(`status=done&platform=airbnb`)).toEqual([e.outbound]);
  });

  it("answers 400 for a bad cursor or filter", async () => {
    for (const q of ["cursor=bm9wZQ", "status=lost", "sort=id", "order=up", "from=yesterday"]) {
      const res = await api("GET", `/api/v1/events?${q}`, admin);
      expect(res.status, q).toBe(400);
      expect(res.json.error.code).toBe("validation_failed");
    }
  });

  it("shows one event with its parsed attempt log and raw payload, never the signature", async () => {
    const res = await api("GET", `/api/v1/events/${e.failed}`, admin);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: e.failed,
      status: "failed",
      platform: "airbnb",
      connection_id: p.airbnb.connectionId,
      attempts: 2,
      last_error: "HTTP 503 from airbnb",
      attempt_log: attemptLog,
      dead_letters: [],
    });
    expect(JSON.parse(res.json.payload as string)).toMatchObject({
      event_type: "reservation.created",
    });
    expect(res.text).not.toContain(SIGNATURE);
    expect(res.text).not.toContain("deadbeef");
    expect((await api("GET", `/api/v1/events/${e.outbound}`, admin)).json.payload).toBeNull();
    for (const id of [e.orphan, e.foreign, "evt_doesnotexist"]) {
      expect((await api("GET", `/api/v1/events/${id}`, admin)).status).toBe(404);
    }
  });
});

describe("retry, replay and ignore of one event", () => {
  let p: Portfolio;
  let admin: string;
  let own: { tenantId: string; connectionId: string; propertyId: string };

  beforeAll(async () => {
    p = await seedPortfolio();
    admin = await tokenFor(p.tenantId);
    own = { tenantId: p.tenantId, connectionId: p.airbnb.connectionId, propertyId: p.propertyId };
  });

  it("retries a failed event: received, attempts 0, attempt log kept, its dead letters resolved", async () => {
    const ev = await seedEvent({ ...own, status: "failed", attempts: 6, attemptLog });
    const dl = await seedDeadLetter({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      platform: "airbnb",
      idempotencyKey: ev.key,
      body: webhookMessageOf(ev),
    });
    const body = await expectApi(202, "POST", `/api/v1/events/${ev.id}/retry`, admin);
    expect(body).toMatchObject({
      id: ev.id,
      status: "received",
      attempts: 0,
      attempt_log: attemptLog,
      dead_letters: [{ id: dl, resolution: "retried" }],
    });
    expect(await deadLetterRow(dl)).toMatchObject({ resolution: "retried" });
  });

  it.each(["retrying", "unmapped"])("retries a %s event", async (status) => {
    const ev = await seedEvent({ ...own, status, attempts: 2 });
    expect(await expectApi(202, "POST", `/api/v1/events/${ev.id}/retry`, admin)).toMatchObject({
      status: "received",
      attempts: 0,
    });
  });

  it.each(["done", "ignored", "received", "processing"])(
    "refuses to retry a %s event with 409 naming the state",
    async (status) => {
      const ev = await seedEvent({
        ...own,
        status,
        leaseUntil: status === "processing" ? Date.now() + 60_000 : null,
      });
      const res = await api("POST", `/api/v1/events/${ev.id}/retry`, admin);
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("invalid_state");
      expect(res.json.error.message).toContain(`is ${status}`);
      expect((await eventRow(ev.id))?.status).toBe(status);
    },
  );

  it.each(["done", "ignored", "failed", "unmapped"])("replays a %s event", async (status) => {
    const ev = await seedEvent({ ...own, status, attempts: 3, outcome: "earlier outcome" });
    expect(await expectApi(202, "POST", `/api/v1/events/${ev.id}/replay`, admin)).toMatchObject({
      id: ev.id,
      status: "received",
      attempts: 0,
    });
  });

  it("replays a processing event only once its lease ran out", async () => {
    const held = await seedEvent({ ...own, status: "processing", leaseUntil: Date.now() + 60_000 });
    const res = await api("POST", `/api/v1/events/${held.id}/replay`, admin);
    expect(res.status).toBe(409);
    expect(res.json.error.message).toContain("is processing");
    const lapsed = await seedEvent({ ...own, status: "processing", leaseUntil: Date.now() - 1000 });
    await expectApi(202, "POST", `/api/v1/events/${lapsed.id}/replay`, admin);
  });

  it("refuses to replay what cannot be rebuilt (webhook body gone, outbound)", async () => {
    const gone = await seedEvent({ ...own, status: "failed", webhook: false });
    const res = await api("POST", `/api/v1/events/${gone.id}/retry`, admin);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("not_replayable");
    expect((await eventRow(gone.id))?.status).toBe("failed");
    const out = await seedEvent({ ...own, status: "done", direction: "outbound", webhook: false });
    expect((await api("POST", `/api/v1/events/${out.id}/replay`, admin)).json.error.code).toBe(
      "not_replayable",
    );
  });

  it("ignores an event with a reason and resolves its dead letters", async () => {
    const ev = await seedEvent({ ...own, status: "failed" });
    const dl = await seedDeadLetter({
      tenantId: p.tenantId,
      idempotencyKey: ev.key,
      body: webhookMessageOf(ev),
    });
    const body = await expectApi(200, "POST", `/api/v1/events/${ev.id}/ignore`, admin, {
      reason: "  guest rebooked directly  ",
    });
    expect(body).toMatchObject({
      status: "ignored",
      outcome: "ignored by operator: guest rebooked directly",
      dead_letters: [{ id: dl, resolution: "ignored" }],
    });
    expect(await deadLetterRow(dl)).toMatchObject({
      resolution: "ignored",
      resolution_note: "guest rebooked directly",
    });
    // Ignored: a retry is refused; a replay is still possible.
    expect((await api("POST", `/api/v1/events/${ev.id}/retry`, admin)).status).toBe(409);
  });

  it.each(["processing", "done", "ignored"])("refuses to ignore a %s event", async (status) => {
    const ev = await seedEvent({
      ...own,
      status,
      leaseUntil: status === "processing" ? Date.now() + 60_000 : null,
    });
    const res = await api("POST", `/api/v1/events/${ev.id}/ignore`, admin, { reason: "x" });
    expect(res.status).toBe(409);
    expect(res.json.error.message).toContain(`is ${status}`);
  });

  it("needs a reason of 1-500 characters", async () => {
    const ev = await seedEvent({ ...own, status: "failed" });
    for (const body of [{}, { reason: "" }, { reason: "   " }, { reason: "x".repeat(501) }]) {
      const res = await api("POST", `/api/v1/events/${ev.id}/ignore`, admin, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect((await eventRow(ev.id))?.status).toBe("failed");
  });
});

describe("POST /api/v1/events/batch-retry", () => {
  it("retries the oldest matching events, at most `limit` per call, and says what remains", async () => {
    const p = await seedPortfolio();
    const admin = await tokenFor(p.tenantId);
    const base = Date.now() - 500_000;
    const own = { tenantId: p.tenantId, connectionId: p.airbnb.connectionId };
    const a1 = await seedEvent({ ...own, status: "failed", attempts: 6, receivedAt: base + 1 });
    const a2 = await seedEvent({ ...own, status: "failed", attempts: 6, receivedAt: base + 2 });
    const a3 = await seedEvent({ ...own, status: "failed", attempts: 6, receivedAt: base + 3 });
    const noBody = await seedEvent({
      ...own,
      status: "failed",
      webhook: false,
      receivedAt: base + 4,
    });
    const bc = await seedEvent({ ...own, platform: "booking_com", status: "failed" });
    const done = await seedEvent({ ...own, status: "done", receivedAt: base });
    const unmapped = await seedEvent({ ...own, status: "unmapped", receivedAt: base });
    const dl = await seedDeadLetter({ tenantId: p.tenantId, idempotencyKey: a1.key, body: {} });

    const first = await expectApi(202, "POST", "/api/v1/events/batch-retry", admin, {
      platform: "airbnb",
      limit: 2,
    });
    expect(first).toMatchObject({ matched: 4, retried: 2, skipped: [], more: true });
    expect(ids(first)).toEqual([a1.id, a2.id]);
    expect((first.data as Json[]).every((x) => x.status === "received" && x.attempts === 0)).toBe(
      true,
    );
    expect(await deadLetterRow(dl)).toMatchObject({ resolution: "retried" });

    const second = await expectApi(202, "POST", "/api/v1/events/batch-retry", admin, {
      platform: "airbnb",
      limit: 2,
    });
    expect(second).toMatchObject({
      matched: 2,
      retried: 1,
      skipped: [{ id: noBody.id, reason: expect.stringContaining("no longer kept") }],
      more: false,
    });
    expect(ids(second)).toEqual([a3.id]);
    expect((await eventRow(bc.id))?.status).toBe("failed");
    expect((await eventRow(done.id))?.status).toBe("done");
    expect((await eventRow(unmapped.id))?.status).toBe("unmapped");

    // Another status (a1 and a2 may be unmapped by now too: `to` leaves them out).
    const third = await expectApi(202, "POST", "/api/v1/events/batch-retry", admin, {
      status: "unmapped",
      to: base + 1,
    });
    expect(third).toMatchObject({ retried: 1, more: false });
    expect(ids(third)).toEqual([unmapped.id]);
  });

  it("refuses filters it cannot retry by", async () => {
    const p = await seedPortfolio();
    const admin = await tokenFor(p.tenantId);
    for (const body of [{ status: "done" }, { limit: 501 }, { limit: 0 }, { colour: "red" }]) {
      const res = await api("POST", "/api/v1/events/batch-retry", admin, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
  });
});

describe("dead letters", () => {
  let p: Portfolio;
  let admin: string;
  const d = {} as Record<"inbound" | "outbound" | "resolved" | "invalid" | "foreign", string>;
  let failedEvent: Awaited<ReturnType<typeof seedEvent>>;
  const base = Date.now() - 1_000_000;

  beforeAll(async () => {
    p = await seedPortfolio();
    admin = await tokenFor(p.tenantId);
    failedEvent = await seedEvent({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      propertyId: p.propertyId,
      status: "failed",
      attempts: 6,
    });
    d.inbound = await seedDeadLetter({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      platform: "airbnb",
      idempotencyKey: failedEvent.key,
      body: webhookMessageOf(failedEvent),
      attemptLog,
      createdAt: base + 3000,
    });
    d.outbound = await seedDeadLetter({
      tenantId: p.tenantId,
      queue: "outbound",
      body: {
        v: 1,
        kind: "nights.changed",
        tenantId: p.tenantId,
        propertyId: p.propertyId,
        roomTypeId: p.roomTypeId,
        ranges: [{ start: "2031-01-01", end: "2031-01-02" }],
        sourcePlatform: "airbnb",
        includeSource: false,
        causeKey: `test:${base}`,
        changedAt: base,
      },
      createdAt: base + 2000,
    });
    d.resolved = await seedDeadLetter({
      tenantId: p.tenantId,
      body: { kind: "nonsense" },
      createdAt: base + 1000,
    });
    await env.DB.prepare(
      `UPDATE dead_letters SET resolved_at = ?, resolution = 'ignored', resolution_note = 'old' WHERE id = ?`,
    )
      .bind(base + 1500, d.resolved)
      .run();
    d.invalid = await seedDeadLetter({
      tenantId: p.tenantId,
      platform: "booking_com",
      body: { kind: "nonsense" },
      createdAt: base + 500,
    });
    const other = await seedPortfolio();
    d.foreign = await seedDeadLetter({
      tenantId: other.tenantId,
      body: {},
      createdAt: base + 2500,
    });
  });

  it("lists unresolved ones newest first, with filters, order and pagination", async () => {
    const list = async (q = "") =>
      (await allPages(`/api/v1/dead-letters?limit=2${q}`, admin)).flat();
    expect(await list()).toEqual([d.inbound, d.outbound, d.invalid]);
    expect(await allPages("/api/v1/dead-letters?limit=2&order=asc", admin)).toEqual([
      [d.invalid, d.outbound],
      [d.inbound],
    ]);
    expect(await list("&resolved=true")).toEqual([d.resolved]);
    expect(await list("&platform=airbnb")).toEqual([d.inbound]);
    expect(await list(`&connection_id=${p.airbnb.connectionId}`)).toEqual([d.inbound]);
    expect(await list(`&property_id=${p.propertyId}`)).toEqual([d.inbound, d.outbound]);
    expect(await list("&queue=outbound")).toEqual([d.outbound]);
    expect(await list(`&from=${base + 1000}&to=${base + 3000}`)).toEqual([d.outbound]);
    expect((await api("GET", "/api/v1/dead-letters?resolved=maybe", admin)).status).toBe(400);
  });

  it("shows one with its original message (no signature), payload and attempt log", async () => {
    const res = await api("GET", `/api/v1/dead-letters/${d.inbound}`, admin);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: d.inbound,
      queue: "inbound",
      event_id: failedEvent.id,
      resolved_at: null,
      attempt_log: attemptLog,
      payload: failedEvent.payload,
      body: { kind: "webhook", platform: "airbnb", eventId: failedEvent.platformEventId },
    });
    expect(res.json.body).not.toHaveProperty("signature");
    expect(res.text).not.toContain("deadbeef");
    expect((await api("GET", `/api/v1/dead-letters/${d.foreign}`, admin)).status).toBe(404);
  });

  it("retries an inbound one through its event and resolves it; a second retry is 409", async () => {
    const res = await expectApi(202, "POST", `/api/v1/dead-letters/${d.inbound}/retry`, admin);
    expect(res).toMatchObject({ id: d.inbound, resolution: "retried" });
    expect(res.resolved_at).toBeGreaterThan(0);
    expect((await eventRow(failedEvent.id))?.attempts).toBe(0);
    const again = await api("POST", `/api/v1/dead-letters/${d.inbound}/retry`, admin);
    expect(again.status).toBe(409);
    expect(again.json.error.message).toContain("already resolved");
  });

  it("retries an outbound one by sending its message back to the outbound queue", async () => {
    const res = await expectApi(202, "POST", `/api/v1/dead-letters/${d.outbound}/retry`, admin);
    expect(res).toMatchObject({ resolution: "retried", body: { kind: "nights.changed" } });
    expect(await deadLetterRow(d.outbound)).toMatchObject({ resolution: "retried" });
  });

  it("ignores one with a reason (its failed event too); a second ignore is 409", async () => {
    const ev = await seedEvent({ tenantId: p.tenantId, status: "failed" });
    const dl = await seedDeadLetter({
      tenantId: p.tenantId,
      idempotencyKey: ev.key,
      body: webhookMessageOf(ev),
    });
    const res = await expectApi(200, "POST", `/api/v1/dead-letters/${dl}/ignore`, admin, {
      reason: "duplicate of a booking fixed by hand",
    });
    expect(res).toMatchObject({
      resolution: "ignored",
      resolution_note: "duplicate of a booking fixed by hand",
    });
    expect(await eventRow(ev.id)).toMatchObject({
      status: "ignored",
      outcome: "ignored by operator: duplicate of a booking fixed by hand",
    });
    expect(
      (await api("POST", `/api/v1/dead-letters/${dl}/ignore`, admin, { reason: "x" })).status,
    ).toBe(409);
    expect((await api("POST", `/api/v1/dead-letters/${dl}/ignore`, admin, {})).status).toBe(422);
  });

  it("cannot retry a message that is not one (409) but can ignore it", async () => {
    const res = await api("POST", `/api/v1/dead-letters/${d.invalid}/retry`, admin);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("not_retryable");
    expect((await deadLetterRow(d.invalid))?.resolved_at).toBeNull();
    await expectApi(200, "POST", `/api/v1/dead-letters/${d.invalid}/ignore`, admin, {
      reason: "garbage",
    });
  });

  it("answers the event's 409 when the dead letter's event cannot be retried", async () => {
    const ev = await seedEvent({ tenantId: p.tenantId, status: "done" });
    const dl = await seedDeadLetter({
      tenantId: p.tenantId,
      idempotencyKey: ev.key,
      body: webhookMessageOf(ev),
    });
    const res = await api("POST", `/api/v1/dead-letters/${dl}/retry`, admin);
    expect(res.status).toBe(409);
    expect(res.json.error.message).toContain("is done");
    expect((await deadLetterRow(dl))?.resolved_at).toBeNull();
  });
});

describe("sync logs", () => {
  let p: Portfolio;
  let admin: string;
  const s = {} as Record<"inboundFailed" | "inboundDone" | "outbound", string>;
  let failedEvent: Awaited<ReturnType<typeof seedEvent>>;
  let doneEvent: Awaited<ReturnType<typeof seedEvent>>;
  const base = Date.now() - 1_000_000;

  beforeAll(async () => {
    p = await seedPortfolio();
    admin = await tokenFor(p.tenantId);
    failedEvent = await seedEvent({ tenantId: p.tenantId, status: "failed" });
    doneEvent = await seedEvent({ tenantId: p.tenantId, status: "done" });
    s.inboundFailed = await seedSyncLog({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      direction: "inbound",
      eventKey: failedEvent.key,
      status: "deadlettered",
      triggeredAt: base + 1000,
    });
    s.inboundDone = await seedSyncLog({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      direction: "inbound",
      eventKey: doneEvent.key,
      status: "success",
      triggeredAt: base + 2000,
    });
    s.outbound = await seedSyncLog({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      direction: "outbound",
      status: "failed",
      triggeredAt: base + 3000,
    });
  });

  it("lists them newest first, with filters and pagination", async () => {
    const list = async (q = "") => (await allPages(`/api/v1/sync-logs?limit=2${q}`, admin)).flat();
    expect(await list()).toEqual([s.outbound, s.inboundDone, s.inboundFailed]);
    expect(await list("&direction=inbound")).toEqual([s.inboundDone, s.inboundFailed]);
    expect(await list("&status=failed")).toEqual([s.outbound]);
    expect(await list(`&connection_id=${p.airbnb.connectionId}`)).toEqual([
      s.inboundDone,
      s.inboundFailed,
    ]);
    expect(await list(`&from=${base + 1500}&to=${base + 3000}`)).toEqual([s.inboundDone]);
    const page = await expectApi(200, "GET", "/api/v1/sync-logs?limit=1", admin);
    expect(page.data[0]).toMatchObject({
      id: s.outbound,
      direction: "outbound",
      event_id: null,
      sync_type: "availability_export",
    });
  });

  it("retries an inbound sync through its event (202), and 409 when the event cannot be retried", async () => {
    const res = await expectApi(202, "POST", `/api/v1/sync-logs/${s.inboundFailed}/retry`, admin);
    expect(res).toMatchObject({
      sync_log: { id: s.inboundFailed },
      event: { id: failedEvent.id, status: "received", attempts: 0 },
      gate: null,
    });
    const refused = await api("POST", `/api/v1/sync-logs/${s.inboundDone}/retry`, admin);
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain("is done");
  });

  it("retries an outbound sync by flushing the connection's ChannelGate (200 with its status)", async () => {
    const res = await expectApi(200, "POST", `/api/v1/sync-logs/${s.outbound}/retry`, admin);
    expect(res).toMatchObject({ sync_log: { id: s.outbound }, event: null });
    expect(res.gate).toMatchObject({ pending_nights: expect.any(Number), jobs: expect.any(Array) });
  });
});

describe("roles", () => {
  it("a read-only token may list and read but every write is 403", async () => {
    const p = await seedPortfolio();
    const viewer = await tokenFor(p.tenantId, "read_only");
    const ev = await seedEvent({ tenantId: p.tenantId, status: "failed" });
    const dl = await seedDeadLetter({ tenantId: p.tenantId, idempotencyKey: ev.key, body: {} });
    const sl = await seedSyncLog({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      direction: "inbound",
      eventKey: ev.key,
    });
    for (const path of [
      "/api/v1/events",
      `/api/v1/events/${ev.id}`,
      "/api/v1/dead-letters",
      `/api/v1/dead-letters/${dl}`,
      "/api/v1/sync-logs",
    ]) {
      expect((await api("GET", path, viewer)).status, path).toBe(200);
    }
    const writes: Array<[string, unknown?]> = [
      [`/api/v1/events/${ev.id}/retry`],
      [`/api/v1/events/${ev.id}/replay`],
      [`/api/v1/events/${ev.id}/ignore`, { reason: "x" }],
      ["/api/v1/events/batch-retry", {}],
      [`/api/v1/dead-letters/${dl}/retry`],
      [`/api/v1/dead-letters/${dl}/ignore`, { reason: "x" }],
      [`/api/v1/sync-logs/${sl}/retry`],
    ];
    for (const [path, body] of writes) {
      const res = await api("POST", path, viewer, body);
      expect(res.status, path).toBe(403);
      expect(res.json.error.code).toBe("forbidden");
    }
    expect((await eventRow(ev.id))?.status).toBe("failed");
    expect((await deadLetterRow(dl))?.resolved_at).toBeNull();
  });
});
