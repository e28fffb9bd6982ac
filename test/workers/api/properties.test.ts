import { beforeAll, describe, expect, it } from "vitest";
import { api as typedApi } from "../../support/api";
import { SELF_FETCH } from "../../support/fixtures";
import { seed } from "../../support/seed";

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  SELF_FETCH(`http://engine.test${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.headers ?? {}),
    },
  });

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await api(path, {
    method,
    token,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}
interface Property {
  id: string;
  name: string;
  time_zone: string;
  created_at: number;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** A tenant with an admin and a read-only token (seed.tenant expects each 201). */
const createTenant = (name: string) => seed.tenant({ name, readOnly: true });

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function createProperty(t: Tenant, name: string, time_zone = "Europe/Berlin") {
  const res = await typedApi(t.admin).POST("/api/v1/properties", { body: { name, time_zone } });
  expect(res.response.status).toBe(201);
  return res.data!;
}

describe("properties", () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    a = await createTenant("Props A");
    b = await createTenant("Props B");
  });

  it("creates, reads, lists and updates a property", async () => {
    const created = await call<Property>("POST", "/api/v1/properties", a.admin, {
      name: "  Chalet Edelweiss ",
      time_zone: "Europe/Vienna",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Chalet Edelweiss", time_zone: "Europe/Vienna" });
    expect(created.body.id).toMatch(/^prop_/);

    const got = await call<Property>("GET", `/api/v1/properties/${created.body.id}`, a.readOnly);
    expect(got).toEqual({ status: 200, body: created.body });

    const patched = await call<Property>(
      "PATCH",
      `/api/v1/properties/${created.body.id}`,
      a.admin,
      {
        name: "Chalet Enzian",
        time_zone: "America/New_York",
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id: created.body.id,
      name: "Chalet Enzian",
      time_zone: "America/New_York",
    });

    // Stored the way Intl names the zone.
    const lower = await call<Property>("POST", "/api/v1/properties", a.admin, {
      name: "Lower case zone",
      time_zone: "europe/zurich",
    });
    expect(lower.status).toBe(201);
    expect(lower.body.time_zone).toBe("Europe/Zurich");

    const list = await call<Page<Property>>("GET", "/api/v1/properties", a.admin);
    expect(list.status).toBe(200);
    expect(list.body.data.map((p) => p.id)).toContain(created.body.id);
  });

  it("paginates newest first with an opaque cursor", async () => {
    const t = await createTenant("Props paging");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createProperty(t, `P${i}`)).id);
    const seen: Property[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res: { status: number; body: Page<Property> } = await call<Page<Property>>(
        "GET",
        `/api/v1/properties?limit=2${q}`,
        t.readOnly,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen.map((p) => p.id))).toEqual(new Set(ids));
    for (let i = 1; i < seen.length; i++) {
      const prev = seen[i - 1] as Property;
      const cur = seen[i] as Property;
      expect(
        prev.created_at > cur.created_at ||
          (prev.created_at === cur.created_at && prev.id > cur.id),
      ).toBe(true);
    }
    // Another tenant's list never shows these.
    const other = await call<Page<Property>>("GET", "/api/v1/properties?limit=200", a.admin);
    for (const id of ids) expect(other.body.data.map((p) => p.id)).not.toContain(id);
  });

  it("validates time zones, names and parameters, naming the field", async () => {
    for (const time_zone of ["Mars/Olympus", "+01:00", "", "Europe/Berlin; DROP"]) {
      const res = await call<ErrorBody>("POST", "/api/v1/properties", a.admin, {
        name: "x",
        time_zone,
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toContain("time_zone");
    }
    const noName = await call<ErrorBody>("POST", "/api/v1/properties", a.admin, {
      name: "  ",
      time_zone: "UTC",
    });
    expect(noName.status).toBe(422);
    expect(noName.body.error.message).toContain("name");

    const p = await createProperty(a, "Validation");
    const empty = await call<ErrorBody>("PATCH", `/api/v1/properties/${p.id}`, a.admin, {});
    expect(empty.status).toBe(422);

    const badId = await call<ErrorBody>("GET", "/api/v1/properties/not-an-id", a.admin);
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toContain("id");

    const badLimit = await call<ErrorBody>("GET", "/api/v1/properties?limit=0", a.admin);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toContain("limit");

    const badCursor = await call<ErrorBody>("GET", "/api/v1/properties?cursor=%%%", a.admin);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.message).toContain("cursor");

    // An empty cursor is not one a previous page handed out.
    const emptyCursor = await call<ErrorBody>("GET", "/api/v1/properties?cursor=", a.admin);
    expect(emptyCursor.status).toBe(400);
    expect(emptyCursor.body.error.message).toContain("cursor");
  });

  it("manages room types and rate plans, with 409 on duplicate names", async () => {
    const p = await createProperty(a, "Hotel Alpenblick");
    const rt = await call<Record<string, unknown> & { id: string }>(
      "POST",
      `/api/v1/properties/${p.id}/room-types`,
      a.admin,
      { name: "Double", units: 4, base_price_minor: 12000, currency: "EUR" },
    );
    expect(rt.status).toBe(201);
    expect(rt.body).toMatchObject({
      property_id: p.id,
      name: "Double",
      units: 4,
      base_price_minor: 12000,
      currency: "EUR",
    });
    expect(rt.body.id).toMatch(/^rt_/);
    const single = await call("POST", `/api/v1/properties/${p.id}/room-types`, a.admin, {
      name: "Single",
      units: 1,
    });
    expect(single.status).toBe(201);
    expect(single.body).toMatchObject({ base_price_minor: null, currency: null });

    const dup = await call<ErrorBody>("POST", `/api/v1/properties/${p.id}/room-types`, a.admin, {
      name: "Double",
      units: 1,
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("conflict");

    const rts = await call<Page<{ id: string }>>(
      "GET",
      `/api/v1/properties/${p.id}/room-types`,
      a.readOnly,
    );
    expect(rts.status).toBe(200);
    expect(rts.body.data).toHaveLength(2);

    const rp = await call<Record<string, unknown>>(
      "POST",
      `/api/v1/properties/${p.id}/rate-plans`,
      a.admin,
      { room_type_id: rt.body.id, name: "Standard" },
    );
    expect(rp.status).toBe(201);
    expect(rp.body).toMatchObject({
      property_id: p.id,
      room_type_id: rt.body.id,
      name: "Standard",
    });
    const rpDup = await call<ErrorBody>("POST", `/api/v1/properties/${p.id}/rate-plans`, a.admin, {
      room_type_id: rt.body.id,
      name: "Standard",
    });
    expect(rpDup.status).toBe(409);
    // Same name on another room type is fine.
    const single2 = single.body as { id: string };
    const rpOther = await call("POST", `/api/v1/properties/${p.id}/rate-plans`, a.admin, {
      room_type_id: single2.id,
      name: "Standard",
    });
    expect(rpOther.status).toBe(201);
    const rps = await call<Page<{ id: string }>>(
      "GET",
      `/api/v1/properties/${p.id}/rate-plans`,
      a.readOnly,
    );
    expect(rps.body.data).toHaveLength(2);

    // A room type of another property (same tenant) is not this property's.
    const elsewhere = await createProperty(a, "Elsewhere");
    const foreign = await call<ErrorBody>(
      "POST",
      `/api/v1/properties/${elsewhere.id}/rate-plans`,
      a.admin,
      { room_type_id: rt.body.id, name: "Standard" },
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toContain("room_type_id");
  });

  it.each<[unknown, string]>([
    [{ name: "R", units: 0 }, "units"],
    [{ name: "R", units: 1.5 }, "units"],
    [{ name: "R", units: "2" }, "units"],
    [{ name: "R", units: 1, currency: "eur" }, "currency"],
    [{ name: "R", units: 1, currency: "EURO" }, "currency"],
    [{ name: "R", units: 1, base_price_minor: 100 }, "currency"],
    [{ name: "R", units: 1, base_price_minor: -1, currency: "EUR" }, "base_price_minor"],
    [{ units: 1 }, "name"],
  ])("rejects the room type %j with 422 naming %s", async (body, field) => {
    const p = await createProperty(a, "Validation rooms");
    const res = await call<ErrorBody>(
      "POST",
      `/api/v1/properties/${p.id}/room-types`,
      a.admin,
      body,
    );
    expect(res.status, JSON.stringify(body)).toBe(422);
    expect(res.body.error.message).toContain(field);
  });

  it("validates a rate plan's room type reference, naming the field", async () => {
    const p = await createProperty(a, "Validation rooms");
    const badRef = await call<ErrorBody>("POST", `/api/v1/properties/${p.id}/rate-plans`, a.admin, {
      room_type_id: "../x",
      name: "S",
    });
    expect(badRef.status).toBe(422);
    expect(badRef.body.error.message).toContain("room_type_id");
    const unknownRef = await call<ErrorBody>(
      "POST",
      `/api/v1/properties/${p.id}/rate-plans`,
      a.admin,
      { room_type_id: "rt_doesnotexist", name: "S" },
    );
    expect(unknownRef.status).toBe(404);
    expect(unknownRef.body.error.message).toContain("room_type_id");
  });

  it("isolates tenants: 401 without a token, 403 read-only writes, 404 across tenants", async () => {
    const p = await createProperty(a, "Isolated");
    const rt = await call<{ id: string }>(
      "POST",
      `/api/v1/properties/${p.id}/room-types`,
      a.admin,
      {
        name: "Only",
        units: 1,
      },
    );
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/api/v1/properties"],
      ["POST", "/api/v1/properties", { name: "x", time_zone: "UTC" }],
      ["GET", `/api/v1/properties/${p.id}`],
      ["PATCH", `/api/v1/properties/${p.id}`, { name: "stolen" }],
      ["GET", `/api/v1/properties/${p.id}/room-types`],
      ["POST", `/api/v1/properties/${p.id}/room-types`, { name: "x", units: 1 }],
      ["GET", `/api/v1/properties/${p.id}/rate-plans`],
      ["POST", `/api/v1/properties/${p.id}/rate-plans`, { room_type_id: rt.body.id, name: "x" }],
    ];
    for (const [method, path, body] of routes) {
      const what = `${method} ${path}`;
      expect((await call<ErrorBody>(method, path, undefined, body)).status, what).toBe(401);
      const malformed = await api(path, {
        method,
        headers: { authorization: "Token abc" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(malformed.status, what).toBe(401);
      if (method !== "GET") {
        const ro = await call<ErrorBody>(method, path, a.readOnly, body);
        expect(ro.status, what).toBe(403);
      }
      if (path !== "/api/v1/properties") {
        const cross = await call<ErrorBody>(method, path, b.admin, body);
        expect(cross.status, what).toBe(404);
        expect(cross.body.error.code, what).toBe("not_found");
        expect(JSON.stringify(cross.body), what).not.toContain("Isolated");
      }
    }
    // B's list does not include A's property, and A's property is unchanged.
    const bList = await call<Page<Property>>("GET", "/api/v1/properties?limit=200", b.admin);
    expect(bList.body.data.map((x) => x.id)).not.toContain(p.id);
    const still = await call<Property>("GET", `/api/v1/properties/${p.id}`, a.admin);
    expect(still.body.name).toBe("Isolated");
    const rts = await call<Page<unknown>>("GET", `/api/v1/properties/${p.id}/room-types`, a.admin);
    expect(rts.body.data).toHaveLength(1);
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await (await api("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/api/v1/properties"] ?? {})).toEqual(
      expect.arrayContaining(["get", "post"]),
    );
    expect(Object.keys(doc.paths["/api/v1/properties/{id}"] ?? {})).toEqual(
      expect.arrayContaining(["get", "patch"]),
    );
    for (const sub of ["room-types", "rate-plans"]) {
      expect(Object.keys(doc.paths[`/api/v1/properties/{id}/${sub}`] ?? {})).toEqual(
        expect.arrayContaining(["get", "post"]),
      );
    }
  });
});
