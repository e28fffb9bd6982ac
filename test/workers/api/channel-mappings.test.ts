import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { giveAirbnbAccount, sandbox, SELF_FETCH, uniqueDigits } from "../../support/fixtures";
import { seed } from "../../support/seed";

async function call<T = any>(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Mapping {
  id: string;
  connection_id: string;
  property_id: string;
  platform: string;
  mapping_type: string;
  internal_id: string;
  external_id: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
interface TestResult {
  mapped: boolean;
  connection_id: string;
  platform: string;
  payload_type: string;
  external_ids: { property: string | null; room_type: string | null; rate_plan: string | null };
  property: { id: string; name: string } | null;
  room_type: { id: string; name: string } | null;
  rate_plan: { id: string; name: string } | null;
  warnings: string[];
}

interface Tenant {
  id: string;
  admin: string;
  readOnly: string;
}

/** A tenant with an admin and a read-only token (seed.tenant expects each 201). */
async function createTenant(name: string): Promise<Tenant> {
  const t = await seed.tenant({ name, readOnly: true });
  return { id: t.tenantId, admin: t.admin, readOnly: t.readOnly };
}

interface Seeded {
  propertyId: string;
  roomTypes: [string, string];
  ratePlans: [string, string];
  /** `account`: the connection's own sandbox host account (its credentials). */
  airbnb: { id: string; account: string };
  booking: { id: string; hotelId: string };
}

/**
 * Platform ids the sandbox knows as this property's, so the engine's check with the platform
 * confirms them: a listing of the connection's Airbnb host account, a room (or a rate plan on a
 * room) of its Booking.com hotel.
 */
async function listingOf(s: Seeded): Promise<string> {
  const id = uniqueDigits(10);
  await sandbox("PUT", `/_sandbox/airbnb/listings/${id}`, { account: s.airbnb.account });
  return id;
}
async function roomOf(s: Seeded, ratePlanId?: string): Promise<string> {
  const id = uniqueDigits(9);
  await sandbox("PUT", `/_sandbox/booking_com/hotels/${s.booking.hotelId}/rooms/${id}`, {
    units: 1,
    ...(ratePlanId ? { rate_plan_id: ratePlanId } : {}),
  });
  return id;
}
async function rateOf(s: Seeded): Promise<string> {
  const id = uniqueDigits(8);
  await roomOf(s, id);
  return id;
}

/** A property with two room types, a rate plan each, and an Airbnb and a Booking.com connection. */
async function seedProperty(
  tenantId: string,
  opts: { airbnbStatus?: string; extra?: Array<[string, string]> } = {},
): Promise<Seeded> {
  const s = uniqueDigits(10);
  const now = Date.now();
  const seeded: Seeded = {
    propertyId: `prop_${s}`,
    roomTypes: [`rt_${s}a`, `rt_${s}b`],
    ratePlans: [`rp_${s}a`, `rp_${s}b`],
    airbnb: { id: `con_ab${s}`, account: "" },
    booking: { id: `con_bc${s}`, hotelId: uniqueDigits(7) },
  };
  const db = env.DB;
  const connection = (id: string, platform: string, external: string, status: string) =>
    db
      .prepare(
        `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(id, tenantId, seeded.propertyId, platform, external, status, now, now);
  await db.batch([
    db
      .prepare(
        `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, ?, 'Europe/Berlin', ?)`,
      )
      .bind(seeded.propertyId, tenantId, `Seaside ${s}`, now),
    ...seeded.roomTypes.map((rt, i) =>
      db
        .prepare(
          `INSERT INTO room_types (id, tenant_id, property_id, name, units, created_at) VALUES (?, ?, ?, ?, 1, ?)`,
        )
        .bind(rt, tenantId, seeded.propertyId, `Room ${i + 1}`, now),
    ),
    ...seeded.ratePlans.map((rp, i) =>
      db
        .prepare(
          `INSERT INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .bind(rp, tenantId, seeded.propertyId, seeded.roomTypes[i], `Flex ${i + 1}`, now),
    ),
    connection(seeded.airbnb.id, "airbnb", uniqueDigits(9), opts.airbnbStatus ?? "active"),
    connection(seeded.booking.id, "booking_com", seeded.booking.hotelId, "active"),
    ...(opts.extra ?? []).map(([id, platform]) =>
      connection(id, platform, uniqueDigits(8), "active"),
    ),
  ]);
  seeded.airbnb.account = (await giveAirbnbAccount(tenantId, seeded.airbnb.id)).account;
  // The hotel exists (and authorised the machine account) once it has a room.
  await roomOf(seeded);
  return seeded;
}

const BASE = "/api/v1/channel-mappings";

function create(token: string, body: Record<string, unknown>) {
  return call<Mapping & ErrorBody>("POST", BASE, token, body);
}

let a: Tenant;
let b: Tenant;
let pa: Seeded;
let pb: Seeded;

beforeAll(async () => {
  a = await createTenant("Mappings A");
  b = await createTenant("Mappings B");
  pa = await seedProperty(a.id, { extra: [[`con_ex${uniqueDigits(8)}`, "expedia"]] });
  pb = await seedProperty(b.id);
});

describe("channel mappings CRUD", () => {
  it("creates, reads, lists, updates and soft-deletes a mapping; history stays readable", async () => {
    const p = await seedProperty(a.id);
    const room = await roomOf(p);
    const created = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[0],
      external_id: ` ${room} `,
      platform: "airbnb", // ignored: the platform comes from the connection
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      connection_id: p.booking.id,
      property_id: p.propertyId,
      platform: "booking_com",
      mapping_type: "room_type",
      internal_id: p.roomTypes[0],
      external_id: room,
      status: "confirmed",
      verified_at: expect.any(Number),
      verification_error: null,
      deleted_at: null,
    });
    expect(created.body.id).toMatch(/^map_/);
    const id = created.body.id;

    const read = await call<Mapping>("GET", `${BASE}/${id}`, a.admin);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);

    const list = await call<{ data: Mapping[]; next_cursor: string | null }>(
      "GET",
      `${BASE}?connection_id=${p.booking.id}`,
      a.readOnly,
    );
    expect(list.status).toBe(200);
    expect(list.body.data.map((m) => m.id)).toEqual([id]);
    expect(list.body.next_cursor).toBeNull();

    const newRoom = await roomOf(p);
    const updated = await call<Mapping>("PUT", `${BASE}/${id}`, a.admin, {
      external_id: newRoom,
      internal_id: p.roomTypes[1],
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ external_id: newRoom, internal_id: p.roomTypes[1] });
    expect(updated.body.updated_at).toBeGreaterThanOrEqual(created.body.updated_at);
    expect((await call<Mapping>("GET", `${BASE}/${id}`, a.admin)).body.external_id).toBe(newRoom);

    const deleted = await call<Mapping>("DELETE", `${BASE}/${id}`, a.admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted_at).toEqual(expect.any(Number));
    // History: still resolvable by id, with deleted_at; hidden from the list unless asked for.
    const after = await call<Mapping>("GET", `${BASE}/${id}`, a.readOnly);
    expect(after.status).toBe(200);
    expect(after.body.deleted_at).toBe(deleted.body.deleted_at);
    expect(after.body.external_id).toBe(newRoom);
    const hidden = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?connection_id=${p.booking.id}`,
      a.admin,
    );
    expect(hidden.body.data).toEqual([]);
    const shown = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?connection_id=${p.booking.id}&include_deleted=true`,
      a.admin,
    );
    expect(shown.body.data.map((m) => m.id)).toEqual([id]);
    // Deleting again changes nothing.
    const again = await call<Mapping>("DELETE", `${BASE}/${id}`, a.admin);
    expect(again.status).toBe(200);
    expect(again.body.deleted_at).toBe(deleted.body.deleted_at);
    // A deleted mapping cannot be edited; the same ids can be mapped again.
    const edit = await call<ErrorBody>("PUT", `${BASE}/${id}`, a.admin, { external_id: "1" });
    expect(edit.status).toBe(409);
    expect(edit.body.error.code).toBe("mapping_deleted");
    const remapped = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[1],
      external_id: newRoom,
    });
    expect(remapped.status).toBe(201);
    expect(remapped.body.id).not.toBe(id);
  });

  it("maps the property and rate plans too, and several platforms per property", async () => {
    const p = await seedProperty(a.id);
    const listing = await listingOf(p);
    const [room, rate] = [await roomOf(p), await rateOf(p)];
    const results = await Promise.all([
      create(a.admin, {
        connection_id: p.airbnb.id,
        mapping_type: "room_type",
        internal_id: p.roomTypes[0],
        external_id: listing,
      }),
      // Same listing id as a property mapping: uniqueness is per mapping type.
      create(a.admin, {
        connection_id: p.airbnb.id,
        mapping_type: "property",
        internal_id: p.propertyId,
        external_id: listing,
      }),
      create(a.admin, {
        connection_id: p.booking.id,
        mapping_type: "room_type",
        internal_id: p.roomTypes[0],
        external_id: room,
      }),
      create(a.admin, {
        connection_id: p.booking.id,
        mapping_type: "rate_plan",
        internal_id: p.ratePlans[0],
        external_id: rate,
      }),
      create(a.admin, {
        connection_id: p.booking.id,
        mapping_type: "property",
        internal_id: p.propertyId,
        external_id: p.booking.hotelId,
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const byProperty = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?property_id=${p.propertyId}`,
      a.admin,
    );
    expect(byProperty.body.data).toHaveLength(5);
    const rates = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?property_id=${p.propertyId}&mapping_type=rate_plan&platform=booking_com`,
      a.admin,
    );
    expect(rates.body.data.map((m) => m.internal_id)).toEqual([p.ratePlans[0]]);
    const airbnb = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?property_id=${p.propertyId}&platform=airbnb`,
      a.admin,
    );
    expect(airbnb.body.data).toHaveLength(2);
  });

  it("pages the list newest first with next_cursor", async () => {
    const p = await seedProperty(a.id);
    const ids: string[] = [];
    for (const [type, internal] of [
      ["room_type", p.roomTypes[0]],
      ["room_type", p.roomTypes[1]],
      ["rate_plan", p.ratePlans[0]],
    ] as const) {
      const r = await create(a.admin, {
        connection_id: p.booking.id,
        mapping_type: type,
        internal_id: internal,
        external_id: type === "rate_plan" ? await rateOf(p) : await roomOf(p),
      });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const first = await call<{ data: Mapping[]; next_cursor: string | null }>(
      "GET",
      `${BASE}?connection_id=${p.booking.id}&limit=2`,
      a.admin,
    );
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call<{ data: Mapping[]; next_cursor: string | null }>(
      "GET",
      `${BASE}?connection_id=${p.booking.id}&limit=2&cursor=${first.body.next_cursor}`,
      a.admin,
    );
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    const seen = [...first.body.data, ...second.body.data].map((m) => m.id);
    expect(new Set(seen)).toEqual(new Set(ids));
    const sorted = [...first.body.data, ...second.body.data].map((m) => m.created_at);
    expect(sorted).toEqual([...sorted].sort((x, y) => y - x));

    const bad = await call<ErrorBody>("GET", `${BASE}?cursor=not-a-cursor`, a.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("cursor");
  });
});

describe("uniqueness both ways per connection (409), and one owner per platform id", () => {
  it("refuses a second mapping of the same internal id or the same external id", async () => {
    const p = await seedProperty(a.id);
    const room = await roomOf(p);
    const first = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[0],
      external_id: room,
    });
    expect(first.status).toBe(201);

    const sameInternal = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[0],
      external_id: uniqueDigits(9),
    });
    expect(sameInternal.status).toBe(409);
    expect(sameInternal.body.error.code).toBe("conflict");
    expect(sameInternal.body.error.message).toContain(`room type ${p.roomTypes[0]}`);
    expect(sameInternal.body.error.message).toContain(first.body.id);

    const sameExternal = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[1],
      external_id: room,
    });
    expect(sameExternal.status).toBe(409);
    expect(sameExternal.body.error.message).toContain(`id ${room}`);

    // The same platform id on another connection is refused too, even of the same tenant: one
    // live owner per platform id (the other hotel does not have this room anyway).
    const other = await seedProperty(a.id);
    const elsewhere = await create(a.admin, {
      connection_id: other.booking.id,
      mapping_type: "room_type",
      internal_id: other.roomTypes[0],
      external_id: room,
    });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.error.code).toBe("external_id_unavailable");

    // PUT runs the same check, against every mapping but itself.
    const second = await create(a.admin, {
      connection_id: p.booking.id,
      mapping_type: "room_type",
      internal_id: p.roomTypes[1],
      external_id: await roomOf(p),
    });
    expect(second.status).toBe(201);
    const clash = await call<ErrorBody>("PUT", `${BASE}/${second.body.id}`, a.admin, {
      external_id: room,
    });
    expect(clash.status).toBe(409);
    const clashInternal = await call<ErrorBody>("PUT", `${BASE}/${second.body.id}`, a.admin, {
      internal_id: p.roomTypes[0],
    });
    expect(clashInternal.status).toBe(409);
    const same = await call<Mapping>("PUT", `${BASE}/${second.body.id}`, a.admin, {
      external_id: second.body.external_id,
    });
    expect(same.status).toBe(200);
  });
});

describe("validation", () => {
  it("answers 422 naming the platform's rule for a wrong external id format", async () => {
    const airbnb = await create(a.admin, {
      connection_id: pa.airbnb.id,
      mapping_type: "room_type",
      internal_id: pa.roomTypes[0],
      external_id: "https://www.airbnb.com/rooms/123",
    });
    expect(airbnb.status).toBe(422);
    expect(airbnb.body.error.code).toBe("validation_failed");
    expect(airbnb.body.error.message).toBe(
      "body is invalid: external_id: Airbnb listing ids are 1–20 digits",
    );
    expect(airbnb.body.error.details).toEqual([
      { path: "external_id", message: "Airbnb listing ids are 1–20 digits" },
    ]);

    const hotel = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "property",
      internal_id: pa.propertyId,
      external_id: "12345678901",
    });
    expect(hotel.status).toBe(422);
    expect(hotel.body.error.message).toContain("Booking.com hotel ids are 1–10 digits");

    const noRates = await create(a.admin, {
      connection_id: pa.airbnb.id,
      mapping_type: "rate_plan",
      internal_id: pa.ratePlans[0],
      external_id: "123",
    });
    expect(noRates.status).toBe(422);
    expect(noRates.body.error.message).toContain("Airbnb has no rate plan ids");

    const mapped = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "rate_plan",
      internal_id: pa.ratePlans[1],
      external_id: await rateOf(pa),
    });
    expect(mapped.status).toBe(201);
    const put = await call<ErrorBody>("PUT", `${BASE}/${mapped.body.id}`, a.admin, {
      external_id: "BAR",
    });
    expect(put.status).toBe(422);
    expect(put.body.error.message).toContain("Booking.com rate plan ids are 1–12 digits");
  });

  it("names the invalid field: 422 for bodies, 400 for paths and queries", async () => {
    const missing = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "room_type",
      internal_id: pa.roomTypes[0],
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain("external_id");
    const type = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "room",
      internal_id: pa.roomTypes[0],
      external_id: "1",
    });
    expect(type.status).toBe(422);
    expect(type.body.error.message).toContain("mapping_type");
    const conn = await create(a.admin, {
      connection_id: "not an id",
      mapping_type: "room_type",
      internal_id: pa.roomTypes[0],
      external_id: "1",
    });
    expect(conn.status).toBe(422);
    expect(conn.body.error.message).toContain("connection_id");
    const empty = await call<ErrorBody>("PUT", `${BASE}/map_x`, a.admin, {});
    expect(empty.status).toBe(422);
    expect(empty.body.error.message).toContain("external_id and/or internal_id");

    const badId = await call<ErrorBody>("GET", `${BASE}/not-an-id`, a.admin);
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toContain("id");
    const badQuery = await call<ErrorBody>("GET", `${BASE}?mapping_type=room`, a.admin);
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.message).toContain("mapping_type");
    const badFlag = await call<ErrorBody>("GET", `${BASE}?include_deleted=yes`, a.admin);
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.error.message).toContain("include_deleted");
  });

  it("answers 404 naming the internal id that is not the connection's property's", async () => {
    const sibling = await seedProperty(a.id);
    const otherRoom = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "room_type",
      internal_id: sibling.roomTypes[0],
      external_id: uniqueDigits(9),
    });
    expect(otherRoom.status).toBe(404);
    expect(otherRoom.body.error.message).toContain(`room type ${sibling.roomTypes[0]}`);

    const otherProperty = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "property",
      internal_id: sibling.propertyId,
      external_id: uniqueDigits(7),
    });
    expect(otherProperty.status).toBe(404);
    expect(otherProperty.body.error.message).toContain(`property ${sibling.propertyId}`);

    const roomAsRate = await create(a.admin, {
      connection_id: pa.booking.id,
      mapping_type: "rate_plan",
      internal_id: pa.roomTypes[0],
      external_id: uniqueDigits(8),
    });
    expect(roomAsRate.status).toBe(404);
    expect(roomAsRate.body.error.message).toContain(`rate plan ${pa.roomTypes[0]}`);

    const noConnection = await create(a.admin, {
      connection_id: "con_doesnotexist",
      mapping_type: "room_type",
      internal_id: pa.roomTypes[0],
      external_id: "1",
    });
    expect(noConnection.status).toBe(404);
    expect(noConnection.body.error.message).toContain("con_doesnotexist");

    await env.DB.prepare(`UPDATE channel_connections SET deleted_at = ? WHERE id = ?`)
      .bind(Date.now(), sibling.airbnb.id)
      .run();
    const deletedConnection = await create(a.admin, {
      connection_id: sibling.airbnb.id,
      mapping_type: "room_type",
      internal_id: sibling.roomTypes[0],
      external_id: "1",
    });
    expect(deletedConnection.status).toBe(404);
  });
});

describe("auth and tenant isolation on every route", () => {
  let mappingA: Mapping;
  beforeAll(async () => {
    const r = await create(a.admin, {
      connection_id: pa.airbnb.id,
      mapping_type: "room_type",
      internal_id: pa.roomTypes[1],
      external_id: await listingOf(pa),
    });
    expect(r.status).toBe(201);
    mappingA = r.body;
  });

  const routes = () => [
    { method: "GET", path: BASE },
    {
      method: "POST",
      path: BASE,
      body: {
        connection_id: pa.booking.id,
        mapping_type: "room_type",
        internal_id: pa.roomTypes[1],
        external_id: uniqueDigits(9),
      },
    },
    {
      method: "POST",
      path: `${BASE}/test`,
      body: { connection_id: pa.airbnb.id, payload: { listing_id: "1" } },
    },
    { method: "GET", path: `${BASE}/${mappingA.id}` },
    { method: "PUT", path: `${BASE}/${mappingA.id}`, body: { external_id: uniqueDigits(12) } },
    { method: "DELETE", path: `${BASE}/${mappingA.id}` },
  ];

  it("401 without a token, with a malformed one, or with an unknown one", async () => {
    for (const r of routes()) {
      expect((await call(r.method, r.path, undefined, r.body)).status, r.method + r.path).toBe(401);
      const malformed = await SELF_FETCH(`http://engine.test${r.path}`, {
        method: r.method,
        headers: { authorization: "Token abc", "content-type": "application/json" },
        body: r.body ? JSON.stringify(r.body) : undefined,
      });
      expect(malformed.status).toBe(401);
      expect((await call(r.method, r.path, `cm_${"y".repeat(43)}`, r.body)).status).toBe(401);
    }
  });

  it("a read-only token reads and tests but cannot write (403)", async () => {
    const expected: Record<string, number> = {
      [`GET ${BASE}`]: 200,
      [`POST ${BASE}`]: 403,
      [`POST ${BASE}/test`]: 200,
      [`GET ${BASE}/${mappingA.id}`]: 200,
      [`PUT ${BASE}/${mappingA.id}`]: 403,
      [`DELETE ${BASE}/${mappingA.id}`]: 403,
    };
    for (const r of routes()) {
      const res = await call<ErrorBody>(r.method, r.path, a.readOnly, r.body);
      expect(res.status, `${r.method} ${r.path}`).toBe(expected[`${r.method} ${r.path}`]);
      if (res.status === 403) expect(res.body.error.code).toBe("forbidden");
    }
    expect((await call<Mapping>("GET", `${BASE}/${mappingA.id}`, a.admin)).body.deleted_at).toBe(
      null,
    );
  });

  it("tenant B gets 404 on tenant A's mappings and connections, and never sees them", async () => {
    for (const r of routes()) {
      const res = await call<ErrorBody>(r.method, r.path, b.admin, r.body);
      if (r.method === "GET" && r.path === BASE) {
        expect(res.status).toBe(200);
        continue;
      }
      expect(res.status, `${r.method} ${r.path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
      expect(JSON.stringify(res.body)).not.toContain(pa.propertyId);
    }
    const list = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?connection_id=${pa.airbnb.id}&include_deleted=true`,
      b.admin,
    );
    expect(list.body.data).toEqual([]);
    const byProperty = await call<{ data: Mapping[] }>(
      "GET",
      `${BASE}?property_id=${pa.propertyId}`,
      b.admin,
    );
    expect(byProperty.body.data).toEqual([]);
    // B cannot map A's room type onto B's own connection either.
    const crossInternal = await create(b.admin, {
      connection_id: pb.booking.id,
      mapping_type: "room_type",
      internal_id: pa.roomTypes[0],
      external_id: uniqueDigits(9),
    });
    expect(crossInternal.status).toBe(404);
    // A's mapping is untouched.
    const still = await call<Mapping>("GET", `${BASE}/${mappingA.id}`, a.admin);
    expect(still.body).toMatchObject({ external_id: mappingA.external_id, deleted_at: null });
  });
});

describe("POST /channel-mappings/test", () => {
  let p: Seeded;
  let listing: string;
  let room: string;
  let rate: string;
  beforeAll(async () => {
    p = await seedProperty(a.id);
    listing = await listingOf(p);
    room = await roomOf(p);
    rate = await rateOf(p);
    for (const body of [
      {
        connection_id: p.airbnb.id,
        mapping_type: "room_type",
        internal_id: p.roomTypes[0],
        external_id: listing,
      },
      {
        connection_id: p.booking.id,
        mapping_type: "room_type",
        internal_id: p.roomTypes[1],
        external_id: room,
      },
      {
        connection_id: p.booking.id,
        mapping_type: "rate_plan",
        internal_id: p.ratePlans[1],
        external_id: rate,
      },
    ]) {
      expect((await create(a.admin, body)).status).toBe(201);
    }
  });

  const test = (token: string, connection_id: string, payload: unknown) =>
    call<TestResult & ErrorBody>("POST", `${BASE}/test`, token, { connection_id, payload });

  const airbnbWebhook = (listingId: string) => ({
    event_id: `evt_${uniqueDigits(6)}`,
    event_type: "reservation.created",
    listing_id: listingId,
    confirmation_code: "HMABCD1234",
    occurred_at: "2027-05-01T10:00:00Z",
  });

  it("resolves a mapped Airbnb webhook to the property and room type, with no warnings", async () => {
    const res = await test(a.readOnly, p.airbnb.id, airbnbWebhook(listing));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      mapped: true,
      connection_id: p.airbnb.id,
      platform: "airbnb",
      payload_type: "airbnb_webhook",
      external_ids: { property: null, room_type: listing, rate_plan: null },
      property: { id: p.propertyId, name: expect.stringContaining("Seaside") },
      room_type: { id: p.roomTypes[0], name: "Room 1" },
      rate_plan: null,
      warnings: [],
    });
  });

  it("resolves an Airbnb reservation object (numeric listing id) too", async () => {
    const res = await test(a.admin, p.airbnb.id, {
      reservation: {
        confirmation_code: "HMABCD1234",
        listing_id: Number(listing),
        status: "accepted",
        start_date: "2027-05-01",
        end_date: "2027-05-04",
        updated_at: "2027-04-01T10:00:00Z",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      mapped: true,
      payload_type: "airbnb_reservation",
      room_type: { id: p.roomTypes[0] },
      warnings: [],
    });
  });

  it("says an unmapped listing is not mapped, and what will happen to it", async () => {
    const unknown = uniqueDigits(10);
    const res = await test(a.admin, p.airbnb.id, airbnbWebhook(unknown));
    expect(res.status).toBe(200);
    expect(res.body.mapped).toBe(false);
    expect(res.body.property).toBeNull();
    expect(res.body.room_type).toBeNull();
    expect(res.body.warnings).toContain(`listing ${unknown} is not mapped on this connection`);
    expect(res.body.warnings.join("\n")).toContain("kept as unmapped");
  });

  it("warns that a listing is mapped on another connection of the tenant", async () => {
    const other = await seedProperty(a.id);
    const res = await test(a.admin, other.airbnb.id, airbnbWebhook(listing));
    expect(res.body.mapped).toBe(false);
    expect(res.body.warnings.join("\n")).toContain(`mapped on connection ${p.airbnb.id}`);
  });

  it("warns about a payload the ingress would reject and an invalid listing id", async () => {
    const res = await test(a.admin, p.airbnb.id, { listing_id: "abc" });
    expect(res.status).toBe(200);
    const text = res.body.warnings.join("\n");
    expect(text).toContain("the Airbnb ingress would reject this payload");
    expect(text).toContain("Airbnb listing ids are 1–20 digits");
    expect(res.body.mapped).toBe(false);
  });

  it("resolves a Booking.com reservation with room and rate plan", async () => {
    const res = await test(a.admin, p.booking.id, {
      reservation_id: "4000123",
      hotel_id: Number(p.booking.hotelId),
      room_id: room,
      rate_plan_id: rate,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      mapped: true,
      platform: "booking_com",
      payload_type: "booking_com_reservation",
      external_ids: { property: p.booking.hotelId, room_type: room, rate_plan: rate },
      property: { id: p.propertyId },
      room_type: { id: p.roomTypes[1], name: "Room 2" },
      rate_plan: { id: p.ratePlans[1], name: "Flex 2" },
      warnings: [],
    });
  });

  it("warns when the hotel id differs from the connection's and when room or rate are unmapped", async () => {
    const otherHotel = uniqueDigits(7);
    const push = await test(a.admin, p.booking.id, {
      event_id: "evt_1",
      event_type: "reservation.new",
      hotel_id: otherHotel,
      reservation_id: "4000123",
      occurred_at: "2027-05-01T10:00:00Z",
    });
    expect(push.status).toBe(200);
    expect(push.body.payload_type).toBe("booking_com_push");
    expect(push.body.mapped).toBe(false);
    expect(push.body.property).toBeNull();
    expect(push.body.warnings).toContain(
      `hotel id ${otherHotel} in the payload differs from the connection's external_property_id ${p.booking.hotelId}`,
    );

    const rooms = await test(a.admin, p.booking.id, {
      hotel_id: p.booking.hotelId,
      room_id: "999",
      rate_plan_id: "888",
    });
    expect(rooms.body.mapped).toBe(false);
    expect(rooms.body.property).toMatchObject({ id: p.propertyId });
    expect(rooms.body.warnings).toEqual(
      expect.arrayContaining([
        "room 999 is not mapped on this connection",
        "rate plan 888 is not mapped on this connection",
      ]),
    );
  });

  it("says when the mapping was deleted, and when the connection is not active", async () => {
    const q = await seedProperty(a.id, { airbnbStatus: "paused" });
    const gone = await listingOf(q);
    const m = await create(a.admin, {
      connection_id: q.airbnb.id,
      mapping_type: "room_type",
      internal_id: q.roomTypes[0],
      external_id: gone,
    });
    const del = await call<Mapping>("DELETE", `${BASE}/${m.body.id}`, a.admin);
    const res = await test(a.admin, q.airbnb.id, airbnbWebhook(gone));
    expect(res.body.mapped).toBe(false);
    const deletedAt = new Date(del.body.deleted_at!).toISOString();
    expect(res.body.warnings).toContain(
      `its mapping ${m.body.id} (to room type ${q.roomTypes[0]}) was deleted at ${deletedAt}`,
    );
    expect(res.body.warnings.join("\n")).toContain(`connection ${q.airbnb.id} is paused`);
  });

  it("answers 422 for a payload it cannot read or a platform without an inbound adapter", async () => {
    const shape = await test(a.admin, p.airbnb.id, { hotel_id: "1" });
    expect(shape.status).toBe(422);
    expect(shape.body.error.message).toContain("payload");
    const notObject = await test(a.admin, p.airbnb.id, "listing 1");
    expect(notObject.status).toBe(422);
    expect(notObject.body.error.message).toContain("payload");
    const expediaId = (
      await env.DB.prepare(
        `SELECT id FROM channel_connections WHERE property_id = ? AND platform = 'expedia'`,
      )
        .bind(pa.propertyId)
        .first<{ id: string }>()
    )?.id;
    const expedia = await test(a.admin, expediaId!, { hotel_id: "1" });
    expect(expedia.status).toBe(422);
    expect(expedia.body.error.code).toBe("unsupported_platform");
  });
});

describe("OpenAPI", () => {
  it("documents the mapping routes and the external id rules", async () => {
    const doc = (await (await SELF_FETCH("http://engine.test/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/channel-mappings",
        "/api/v1/channel-mappings/test",
        "/api/v1/channel-mappings/{id}",
        "/api/v1/properties/{id}/channel-status",
      ]),
    );
    expect(JSON.stringify(doc)).toContain("Booking.com hotel ids are 1–10 digits");
  });
});
