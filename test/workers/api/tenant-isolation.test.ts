import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { SELF_FETCH } from "../../support/fixtures";
import { seed } from "../../support/seed";
import { seedDeadLetter, seedEvent, seedSyncLog, webhookMessageOf } from "./operator-fixtures";

/**
 * Every admin route called with tenant B's token on tenant A's resources answers 404 with the
 * error envelope: never A's data, never a 500. The table must cover every documented route that
 * takes an id, so a new route cannot skip this test.
 */
type Json = Record<string, any>;

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function ok(method: string, path: string, token: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, token, body);
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return JSON.parse(res.text);
}

let a: {
  token: string;
  tokenId: string;
  property: string;
  roomType: string;
  ratePlan: string;
  connection: string;
  mapping: string;
  event: string;
  deadLetter: string;
  syncLog: string;
};
let b: { token: string };
/** A's Airbnb listing (the connection's property and its room type's mapping). */
let listing: string;

beforeAll(async () => {
  const ta = await seed.tenant({ name: "Isolation A" });
  const tb = await seed.tenant({ name: "Isolation B" });
  const t = ta.admin;
  // A's own Airbnb host account owns the listing: the mapping is confirmed by the sandbox.
  const seeded = await seed.property({ tenant: ta, name: "A house", platforms: ["airbnb"] });
  const { propertyId: property, roomTypeIds, ratePlanIds } = seeded;
  const [roomType, ratePlan] = [roomTypeIds[0]!, ratePlanIds[0]!];
  const airbnb = seeded.connections.airbnb!;
  const [connection, mapping] = [airbnb.connectionId, airbnb.mappingId!];
  listing = airbnb.externalPropertyId;
  // A failed event of A's, its dead letter and its sync log (the consumers' own tests make real ones).
  const event = await seedEvent({
    tenantId: ta.tenantId,
    connectionId: connection,
    propertyId: property,
    status: "failed",
  });
  const deadLetter = await seedDeadLetter({
    tenantId: ta.tenantId,
    connectionId: connection,
    platform: "airbnb",
    idempotencyKey: event.key,
    body: webhookMessageOf(event),
  });
  const syncLog = await seedSyncLog({
    tenantId: ta.tenantId,
    connectionId: connection,
    direction: "inbound",
    eventKey: event.key,
  });
  a = {
    token: t,
    tokenId: ta.adminTokenId,
    property,
    roomType,
    ratePlan,
    connection,
    mapping,
    event: event.id,
    deadLetter,
    syncLog,
  };
  b = { token: tb.admin };
});

/** A night inside every calendar window (the property's today + 10 days, give or take a day). */
const CALENDAR_DATE = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);

/** [method, path with {id}, which of A's ids, body for writes, query string] */
const ROUTES: Array<[string, string, keyof typeof a, unknown?, string?]> = [
  ["GET", "/api/v1/properties/{id}", "property"],
  ["PATCH", "/api/v1/properties/{id}", "property", { name: "stolen" }],
  ["GET", "/api/v1/properties/{id}/room-types", "property"],
  ["POST", "/api/v1/properties/{id}/room-types", "property", { name: "Intruder", units: 1 }],
  ["GET", "/api/v1/properties/{id}/rate-plans", "property"],
  [
    "POST",
    "/api/v1/properties/{id}/rate-plans",
    "property",
    { room_type_id: "rt_x", name: "Intruder" },
  ],
  ["GET", "/api/v1/properties/{id}/channel-status", "property"],
  ["GET", "/api/v1/channel-connections/{id}", "connection"],
  ["PATCH", "/api/v1/channel-connections/{id}", "connection", { status: "paused" }],
  ["DELETE", "/api/v1/channel-connections/{id}", "connection"],
  ["GET", "/api/v1/channel-connections/{id}/sync-logs", "connection"],
  ["GET", "/api/v1/channel-mappings/{id}", "mapping"],
  ["PUT", "/api/v1/channel-mappings/{id}", "mapping", { external_id: "77700002" }],
  ["DELETE", "/api/v1/channel-mappings/{id}", "mapping"],
  ["DELETE", "/api/v1/tokens/{id}", "tokenId"],
  ["GET", "/api/v1/events/{id}", "event"],
  ["POST", "/api/v1/events/{id}/retry", "event"],
  ["POST", "/api/v1/events/{id}/replay", "event"],
  ["POST", "/api/v1/events/{id}/ignore", "event", { reason: "not yours" }],
  ["GET", "/api/v1/dead-letters/{id}", "deadLetter"],
  ["POST", "/api/v1/dead-letters/{id}/retry", "deadLetter"],
  ["POST", "/api/v1/dead-letters/{id}/ignore", "deadLetter", { reason: "not yours" }],
  ["POST", "/api/v1/sync-logs/{id}/retry", "syncLog"],
  [
    "GET",
    "/api/v1/room-types/{id}/calendar",
    "roomType",
    undefined,
    `?from=${CALENDAR_DATE}&to=${CALENDAR_DATE}`,
  ],
  [
    "PUT",
    "/api/v1/room-types/{id}/calendar",
    "roomType",
    { nights: [{ date: CALENDAR_DATE, blocked: 1, price_minor: 1 }] },
  ],
];

describe("tenant isolation", () => {
  it("covers every documented route that takes an id", async () => {
    const doc = (await (await createApp().request("/openapi.json", {}, {} as Env)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const withId = Object.entries(doc.paths)
      .filter(([path]) => path.includes("{id}"))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(ROUTES.map(([m, p]) => `${m} ${p}`).sort()).toEqual(withId);
  });

  it.each(ROUTES)(
    "%s %s with another tenant's token is 404 and shows nothing",
    async (method, path, which, body, query) => {
      const id = a[which];
      const res = await call(method, path.replace("{id}", id) + (query ?? ""), b.token, body);
      expect(res.status, res.text).toBe(404);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: "not_found" } });
      for (const secret of Object.values(a))
        expect(res.text).not.toContain(secret === id ? "\u0000" : secret);
    },
  );

  it("refuses another tenant's ids inside request bodies with 404", async () => {
    const bodies: Array<[string, string, unknown]> = [
      [
        "POST",
        "/api/v1/channel-connections",
        { property_id: a.property, platform: "booking_com", external_property_id: "4400001" },
      ],
      [
        "POST",
        "/api/v1/channel-mappings",
        {
          connection_id: a.connection,
          mapping_type: "room_type",
          internal_id: a.roomType,
          external_id: "77700003",
        },
      ],
      [
        "POST",
        "/api/v1/channel-mappings/test",
        { connection_id: a.connection, payload: { listing_id: listing } },
      ],
    ];
    for (const [method, path, body] of bodies) {
      const res = await call(method, path, b.token, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(404);
    }
  });

  it("never lists another tenant's resources, even when filtered by their ids", async () => {
    for (const path of [
      "/api/v1/properties",
      `/api/v1/channel-connections?property_id=${a.property}`,
      `/api/v1/channel-mappings?connection_id=${a.connection}`,
      "/api/v1/tokens",
      "/api/v1/events?status=failed",
      `/api/v1/events?connection_id=${a.connection}`,
      `/api/v1/events?property_id=${a.property}`,
      "/api/v1/dead-letters",
      `/api/v1/dead-letters?connection_id=${a.connection}`,
      `/api/v1/sync-logs?connection_id=${a.connection}`,
    ]) {
      const res = await call("GET", path, b.token);
      expect([200, 404], `${path}: ${res.text}`).toContain(res.status);
      for (const id of [
        a.property,
        a.connection,
        a.mapping,
        a.roomType,
        a.tokenId,
        a.event,
        a.deadLetter,
        a.syncLog,
      ])
        expect(res.text).not.toContain(id);
    }
  });

  it("leaves A's resources untouched", async () => {
    expect((await ok("GET", `/api/v1/properties/${a.property}`, a.token)).name).toBe("A house");
    expect(
      (await ok("GET", `/api/v1/channel-connections/${a.connection}`, a.token)).status,
    ).not.toBe("paused");
    expect((await ok("GET", `/api/v1/channel-mappings/${a.mapping}`, a.token)).external_id).toBe(
      listing,
    );
    const event = await ok("GET", `/api/v1/events/${a.event}`, a.token);
    expect(event).toMatchObject({ status: "failed", dead_letters: [{ resolved_at: null }] });
    expect((await ok("GET", `/api/v1/dead-letters/${a.deadLetter}`, a.token)).resolved_at).toBe(
      null,
    );
    const nights = await ok(
      "GET",
      `/api/v1/room-types/${a.roomType}/calendar?from=${CALENDAR_DATE}&to=${CALENDAR_DATE}`,
      a.token,
    );
    expect(nights.data).toMatchObject([{ date: CALENDAR_DATE, blocked: 0, price_minor: null }]);
  });
});
