import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { decryptCredentials } from "../../../src/lib/credentials-crypto";
import { addDaysUtc, SELF_FETCH, uniqueDigits } from "../../support/fixtures";
import { seed } from "../../support/seed";

/** Every response body this file receives, so the last test can scan them for secrets. */
const bodies: string[] = [];

const SECRET = "sk_live_Zq8xTOPSECRETvalue";
const SECRET_2 = "refresh-TOPSECRET-rotated-42";

const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.headers ?? {}),
    },
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, text };
};

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
  return { status: res.status, body: JSON.parse(res.text) as T };
}

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}
interface Connection {
  id: string;
  property_id: string;
  platform: string;
  external_property_id: string;
  status: string;
  sync_direction: string;
  sync_availability: boolean;
  sync_pricing: boolean;
  sync_bookings: boolean;
  has_credentials: boolean;
  credentials_key_id: string | null;
  gate_settings: Record<string, unknown> | null;
  effective_gate_settings: EffectiveGateSettings;
  created_at: number;
  updated_at: number;
}
interface EffectiveGateSettings {
  rate_limit: { capacity: number; window_seconds: number; reserve: number };
  circuit: { failure_threshold: number; open_seconds: number; success_threshold: number };
  coalesce: { quiet_ms: number; max_delay_ms: number };
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
interface SyncLog {
  id: string;
  triggered_at: number;
  sync_type: string;
  status: string;
}

/** A tenant with an admin and a read-only token (seed.tenant expects each 201). */
const createTenant = (name: string) => seed.tenant({ name, readOnly: true });
type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function createProperty(t: Tenant, name: string) {
  const res = await call<{ id: string }>("POST", "/api/v1/properties", t.admin, {
    name,
    time_zone: "Europe/Berlin",
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function connect(t: Tenant, body: Record<string, unknown>) {
  const res = await call<Connection>("POST", "/api/v1/channel-connections", t.admin, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const storedRow = (id: string) =>
  env.DB.prepare(
    `SELECT tenant_id, status, deleted_at, credentials_ciphertext, credentials_key_id
     FROM channel_connections WHERE id = ?`,
  )
    .bind(id)
    .first<{
      tenant_id: string;
      status: string;
      deleted_at: number | null;
      credentials_ciphertext: string | null;
      credentials_key_id: string | null;
    }>();

describe("channel connections", () => {
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    a = await createTenant("Connections A");
    b = await createTenant("Connections B");
  });

  it("creates a connection with encrypted, write-only credentials", async () => {
    const propertyId = await createProperty(a, "Seehaus");
    const external = uniqueDigits(7);
    const created = await connect(a, {
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: external,
      credentials: { api_key: SECRET, username: "hotel-user" },
    });
    expect(created).toMatchObject({
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: external,
      status: "pending",
      sync_direction: "bidirectional",
      sync_availability: true,
      sync_pricing: true,
      sync_bookings: true,
      has_credentials: true,
      credentials_key_id: "k2",
    });
    expect(created).not.toHaveProperty("credentials");
    expect(created.id).toMatch(/^con_/);

    const row = await storedRow(created.id);
    expect(row?.credentials_ciphertext).toMatch(/^v1:k2:/);
    expect(row?.credentials_ciphertext).not.toContain(SECRET);
    expect(row?.credentials_key_id).toBe("k2");
    expect(
      await decryptCredentials(
        env,
        { tenantId: a.tenantId, connectionId: created.id },
        row?.credentials_ciphertext as string,
      ),
    ).toEqual({ api_key: SECRET, username: "hotel-user" });

    const got = await call<Connection>(
      "GET",
      `/api/v1/channel-connections/${created.id}`,
      a.readOnly,
    );
    expect(got).toEqual({ status: 200, body: created });

    const noCreds = await connect(a, {
      property_id: propertyId,
      platform: "airbnb",
      external_property_id: uniqueDigits(8),
      status: "active",
      sync_direction: "inbound_only",
      sync_pricing: false,
    });
    expect(noCreds).toMatchObject({
      has_credentials: false,
      credentials_key_id: null,
      status: "active",
      sync_direction: "inbound_only",
      sync_pricing: false,
    });
  });

  it("accepts vrbo as an alias of fewo_direkt (stored, returned and filtered as fewo_direkt)", async () => {
    const propertyId = await createProperty(a, "Ferienwohnung");
    const created = await connect(a, {
      property_id: propertyId,
      platform: "vrbo",
      external_property_id: `vrbo-${uniqueDigits(6)}`,
    });
    expect(created.platform).toBe("fewo_direkt");
    const dup = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, {
      property_id: propertyId,
      platform: "fewo_direkt",
      external_property_id: `other-${uniqueDigits(6)}`,
    });
    expect(dup.status).toBe(409);
    for (const platform of ["vrbo", "fewo_direkt"]) {
      const list = await call<Page<Connection>>(
        "GET",
        `/api/v1/channel-connections?platform=${platform}&property_id=${propertyId}`,
        a.admin,
      );
      expect(list.body.data.map((c) => c.id)).toEqual([created.id]);
    }
  });

  it("refuses duplicates among live rows with 409, across tenants for the platform's id", async () => {
    const p1 = await createProperty(a, "Dup 1");
    const p2 = await createProperty(a, "Dup 2");
    const external = uniqueDigits(7);
    await connect(a, { property_id: p1, platform: "expedia", external_property_id: external });

    const samePropertyPlatform = await call<ErrorBody>(
      "POST",
      "/api/v1/channel-connections",
      a.admin,
      { property_id: p1, platform: "expedia", external_property_id: uniqueDigits(7) },
    );
    expect(samePropertyPlatform.status).toBe(409);
    expect(samePropertyPlatform.body.error.details?.[0]?.path).toBe("platform");

    const sameExternal = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, {
      property_id: p2,
      platform: "expedia",
      external_property_id: external,
    });
    expect(sameExternal.status).toBe(409);
    expect(sameExternal.body.error.details?.[0]?.path).toBe("external_property_id");

    // Another tenant claiming the same platform property id: 409, without A's ids.
    const bProperty = await createProperty(b, "B's");
    const crossTenant = await call<ErrorBody>("POST", "/api/v1/channel-connections", b.admin, {
      property_id: bProperty,
      platform: "expedia",
      external_property_id: external,
    });
    expect(crossTenant.status).toBe(409);
    expect(JSON.stringify(crossTenant.body)).not.toContain(p1);

    // The same external id on another platform is fine.
    await connect(a, { property_id: p2, platform: "google", external_property_id: external });

    // PATCH onto a taken external id is a 409 too.
    const second = await connect(a, {
      property_id: p2,
      platform: "expedia",
      external_property_id: uniqueDigits(7),
    });
    const patch = await call<ErrorBody>(
      "PATCH",
      `/api/v1/channel-connections/${second.id}`,
      a.admin,
      { external_property_id: external },
    );
    expect(patch.status).toBe(409);
  });

  it("validates bodies (422) and parameters (400), naming the field", async () => {
    const propertyId = await createProperty(a, "Validation");
    const base = { property_id: propertyId, platform: "ical", external_property_id: "cal-1" };
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"]));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, platform: "hrs" }, "platform"],
      [{ ...base, property_id: "nope" }, "property_id"],
      [{ ...base, external_property_id: "" }, "external_property_id"],
      [{ ...base, status: "live" }, "status"],
      [{ ...base, sync_direction: "both" }, "sync_direction"],
      [{ ...base, sync_pricing: "yes" }, "sync_pricing"],
      [{ ...base, credentials: tooMany }, "credentials"],
      [{ ...base, credentials: { api_key: 42 } }, "credentials"],
      [{ ...base, credentials: "plain" }, "credentials"],
    ];
    for (const [body, field] of cases) {
      const res = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.message, JSON.stringify(body)).toContain(field);
    }
    const unknownProperty = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, {
      ...base,
      property_id: "prop_unknown",
    });
    expect(unknownProperty.status).toBe(404);
    expect(unknownProperty.body.error.message).toContain("property_id");

    const created = await connect(a, base);
    const fixed = await call<ErrorBody>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
      { platform: "airbnb" },
    );
    expect(fixed.status).toBe(422);
    const empty = await call<ErrorBody>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
      {},
    );
    expect(empty.status).toBe(422);

    for (const path of [
      "/api/v1/channel-connections/bad-id",
      "/api/v1/channel-connections/bad-id/sync-logs",
    ]) {
      const res = await call<ErrorBody>("GET", path, a.admin);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain("id");
    }
    for (const [query, field] of [
      ["platform=hrs", "platform"],
      ["status=live", "status"],
      ["property_id=x", "property_id"],
      ["limit=500", "limit"],
      ["cursor=zzz", "cursor"],
    ]) {
      const res = await call<ErrorBody>("GET", `/api/v1/channel-connections?${query}`, a.admin);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message, query).toContain(field);
    }
  });

  it("updates settings and replaces or removes credentials", async () => {
    const propertyId = await createProperty(a, "Update");
    const created = await connect(a, {
      property_id: propertyId,
      platform: "beds24",
      external_property_id: uniqueDigits(6),
      credentials: { api_key: SECRET },
    });
    const patched = await call<Connection>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
      {
        status: "paused",
        sync_direction: "outbound_only",
        sync_bookings: false,
        credentials: { refresh_token: SECRET_2 },
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id: created.id,
      platform: "beds24",
      property_id: propertyId,
      status: "paused",
      sync_direction: "outbound_only",
      sync_bookings: false,
      sync_availability: true,
      has_credentials: true,
      credentials_key_id: "k2",
    });
    const row = await storedRow(created.id);
    expect(
      await decryptCredentials(
        env,
        { tenantId: a.tenantId, connectionId: created.id },
        row?.credentials_ciphertext as string,
      ),
    ).toEqual({ refresh_token: SECRET_2 });

    const cleared = await call<Connection>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
      { credentials: null },
    );
    expect(cleared.body).toMatchObject({ has_credentials: false, credentials_key_id: null });
    expect((await storedRow(created.id))?.credentials_ciphertext).toBeNull();
  });

  it("stores gate_settings overrides, returns them with the effective settings, null clears", async () => {
    const propertyId = await createProperty(a, "Gate settings");
    // Engine defaults under test: breaker 5 / 60 s / 2, coalescing 0 / 0 (vitest.config.ts).
    const circuitDefaults = { failure_threshold: 5, open_seconds: 60, success_threshold: 2 };
    const coalesceDefaults = { quiet_ms: 0, max_delay_ms: 0 };

    // No overrides: the platform's published limit.
    const bcom = await connect(a, {
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: uniqueDigits(7),
    });
    expect(bcom.gate_settings).toBeNull();
    expect(bcom.effective_gate_settings).toEqual({
      rate_limit: { capacity: 20, window_seconds: 60, reserve: 0.1 },
      circuit: circuitDefaults,
      coalesce: coalesceDefaults,
    });

    // Overrides on create: stored as JSON, returned as given, merged over the defaults.
    const overrides = {
      rate_limit: { capacity: 5, window_seconds: 2, reserve: 0.2 },
      circuit: { failure_threshold: 3 },
      coalesce: { quiet_ms: 50, max_delay_ms: 400 },
    };
    const airbnb = await connect(a, {
      property_id: propertyId,
      platform: "airbnb",
      external_property_id: uniqueDigits(8),
      gate_settings: overrides,
    });
    expect(airbnb.gate_settings).toEqual(overrides);
    expect(airbnb.effective_gate_settings).toEqual({
      rate_limit: { capacity: 5, window_seconds: 2, reserve: 0.2 },
      circuit: { ...circuitDefaults, failure_threshold: 3 },
      coalesce: { quiet_ms: 50, max_delay_ms: 400 },
    });
    const row = await env.DB.prepare(`SELECT gate_settings FROM channel_connections WHERE id = ?`)
      .bind(airbnb.id)
      .first<{ gate_settings: string | null }>();
    expect(JSON.parse(row?.gate_settings ?? "null")).toEqual(overrides);
    const got = await call<Connection>(
      "GET",
      `/api/v1/channel-connections/${airbnb.id}`,
      a.readOnly,
    );
    expect(got.body).toEqual(airbnb);
    const listed = await call<Page<Connection>>(
      "GET",
      `/api/v1/channel-connections?property_id=${propertyId}`,
      a.readOnly,
    );
    expect(listed.body.data.find((x) => x.id === airbnb.id)).toEqual(airbnb);
    expect(listed.body.data.find((x) => x.id === bcom.id)?.effective_gate_settings).toEqual(
      bcom.effective_gate_settings,
    );

    // PATCH replaces the overrides (no merge); other fields leave them alone; null clears them.
    const patch = (body: Record<string, unknown>) =>
      call<Connection>("PATCH", `/api/v1/channel-connections/${airbnb.id}`, a.admin, body);
    const replaced = await patch({ gate_settings: { circuit: { open_seconds: 30 } } });
    expect(replaced.status).toBe(200);
    expect(replaced.body.gate_settings).toEqual({ circuit: { open_seconds: 30 } });
    expect(replaced.body.effective_gate_settings).toEqual({
      rate_limit: { capacity: 10, window_seconds: 1, reserve: 0.1 },
      circuit: { ...circuitDefaults, open_seconds: 30 },
      coalesce: coalesceDefaults,
    });
    const untouched = await patch({ sync_pricing: false });
    expect(untouched.body.gate_settings).toEqual({ circuit: { open_seconds: 30 } });
    const cleared = await patch({ gate_settings: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.gate_settings).toBeNull();
    // Airbnb's published limit: 10 calls per second.
    expect(cleared.body.effective_gate_settings).toEqual({
      rate_limit: { capacity: 10, window_seconds: 1, reserve: 0.1 },
      circuit: circuitDefaults,
      coalesce: coalesceDefaults,
    });
    const clearedRow = await env.DB.prepare(
      `SELECT gate_settings FROM channel_connections WHERE id = ?`,
    )
      .bind(airbnb.id)
      .first<{ gate_settings: string | null }>();
    expect(clearedRow?.gate_settings).toBeNull();

    // Beds24 counts credits per rolling 5 minutes.
    const beds24 = await connect(a, {
      property_id: propertyId,
      platform: "beds24",
      external_property_id: uniqueDigits(6),
      gate_settings: null,
    });
    expect(beds24.gate_settings).toBeNull();
    expect(beds24.effective_gate_settings.rate_limit).toEqual({
      capacity: 100,
      window_seconds: 300,
      reserve: 0.1,
    });

    // A row the API did not write and that no longer validates: shown as none, defaults apply.
    await env.DB.prepare(`UPDATE channel_connections SET gate_settings = ? WHERE id = ?`)
      .bind('{"rate_limit":{"capacity":-1', beds24.id)
      .run();
    const bad = await call<Connection>("GET", `/api/v1/channel-connections/${beds24.id}`, a.admin);
    expect(bad.status).toBe(200);
    expect(bad.body.gate_settings).toBeNull();
    expect(bad.body.effective_gate_settings).toEqual(beds24.effective_gate_settings);
  });

  it("refuses invalid gate_settings with 422 naming the field, and unknown keys", async () => {
    const propertyId = await createProperty(a, "Gate settings validation");
    const base = { property_id: propertyId, platform: "booking_com", external_property_id: "1" };
    const cases: Array<[unknown, string]> = [
      [{ rate_limit: { capacity: 0, window_seconds: 60 } }, "gate_settings.rate_limit.capacity"],
      [{ rate_limit: { capacity: 10 } }, "gate_settings.rate_limit.window_seconds"],
      [
        { rate_limit: { capacity: 10, window_seconds: 1, reserve: 0.9 } },
        "gate_settings.rate_limit.reserve",
      ],
      [{ circuit: { failure_threshold: 1.5 } }, "gate_settings.circuit.failure_threshold"],
      [{ circuit: { open_seconds: -1 } }, "gate_settings.circuit.open_seconds"],
      [{ coalesce: { quiet_ms: 60_001 } }, "gate_settings.coalesce.quiet_ms"],
      [{ coalesce: { max_delay_ms: "1s" } }, "gate_settings.coalesce.max_delay_ms"],
      ["fast", "gate_settings"],
      // Unknown keys, at the top and inside a part.
      [{ burst: 5 }, "gate_settings"],
      [{ rate_limit: { capacity: 10, window_seconds: 1, burst: 5 } }, "gate_settings.rate_limit"],
    ];
    for (const [gateSettings, field] of cases) {
      const body = { ...base, external_property_id: uniqueDigits(7), gate_settings: gateSettings };
      const res = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, body);
      expect(res.status, JSON.stringify(gateSettings)).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message, JSON.stringify(gateSettings)).toContain(field);
      expect(res.body.error.details?.[0]?.path, JSON.stringify(gateSettings)).toBe(field);
    }
    const unknown = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, {
      ...base,
      external_property_id: uniqueDigits(7),
      gate_settings: { burst: 5 },
    });
    expect(unknown.body.error.message).toContain("burst");

    const created = await connect(a, { ...base, external_property_id: uniqueDigits(7) });
    for (const [gateSettings, field] of cases) {
      const res = await call<ErrorBody>(
        "PATCH",
        `/api/v1/channel-connections/${created.id}`,
        a.admin,
        { gate_settings: gateSettings },
      );
      expect(res.status, JSON.stringify(gateSettings)).toBe(422);
      expect(res.body.error.message, JSON.stringify(gateSettings)).toContain(field);
    }
    // Nothing was stored by the refused writes.
    const after = await call<Connection>(
      "GET",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
    );
    expect(after.body.gate_settings).toBeNull();
    // Read-only tokens may not set them.
    const ro = await call<ErrorBody>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.readOnly,
      { gate_settings: { circuit: { failure_threshold: 2 } } },
    );
    expect(ro.status).toBe(403);
  });

  it("flushes the connection's pending outbound work when it turns active", async () => {
    const propertyId = await createProperty(a, "Flush");
    const rt = await call<{ id: string }>(
      "POST",
      `/api/v1/properties/${propertyId}/room-types`,
      a.admin,
      { name: "Whole house", units: 1 },
    );
    const created = await connect(a, {
      property_id: propertyId,
      platform: "airbnb",
      external_property_id: uniqueDigits(8),
      status: "paused",
    });
    const gate = env.CHANNEL_GATE.getByName(created.id);
    await gate.markDirty({
      tenantId: a.tenantId,
      connectionId: created.id,
      roomTypeId: rt.body.id,
      ranges: [{ start: addDaysUtc(3), end: addDaysUtc(4) }],
      causeKey: "test",
      changedAt: Date.now(),
    });
    await runDurableObjectAlarm(gate);
    // The alarm may already be running on its own (due at once): wait until its flush has ended.
    let blocked = await gate.status();
    for (let i = 0; i < 100 && !blocked.blockedReason; i++) {
      await new Promise((r) => setTimeout(r, 20));
      blocked = await gate.status();
    }
    expect(blocked.blockedReason).toContain("paused");
    expect(blocked.jobs).toEqual([]);

    const res = await call<Connection>(
      "PATCH",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
      { status: "active" },
    );
    expect(res.status).toBe(200);
    // No job is due, so only the PATCH's flush can get past "paused" (to the missing mapping).
    let reason: string | null = null;
    for (let i = 0; i < 50; i++) {
      reason = (await gate.status()).blockedReason;
      if (reason && !reason.includes("paused")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(reason).toContain("without a mapping");
  });

  it("soft-deletes: 404 afterwards, row kept as disconnected, property and platform free again", async () => {
    const propertyId = await createProperty(a, "Delete");
    const external = uniqueDigits(7);
    const created = await connect(a, {
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: external,
      status: "active",
      credentials: { api_key: SECRET },
    });
    const deleted = await call<Connection>(
      "DELETE",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
    );
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe("disconnected");
    const row = await storedRow(created.id);
    expect(row?.deleted_at).toBeTypeOf("number");
    expect(row?.status).toBe("disconnected");

    for (const [method, path, body] of [
      ["GET", `/api/v1/channel-connections/${created.id}`],
      ["PATCH", `/api/v1/channel-connections/${created.id}`, { status: "active" }],
      ["DELETE", `/api/v1/channel-connections/${created.id}`],
      ["GET", `/api/v1/channel-connections/${created.id}/sync-logs`],
    ] as Array<[string, string, unknown?]>) {
      expect((await call(method, path, a.admin, body)).status, `${method} ${path}`).toBe(404);
    }
    const list = await call<Page<Connection>>(
      "GET",
      `/api/v1/channel-connections?property_id=${propertyId}`,
      a.admin,
    );
    expect(list.body.data).toEqual([]);
    const again = await connect(a, {
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: external,
    });
    expect(again.id).not.toBe(created.id);
  });

  it("lists with filters, newest first, across pages", async () => {
    const t = await createTenant("Connections paging");
    const p1 = await createProperty(t, "L1");
    const p2 = await createProperty(t, "L2");
    const ids: string[] = [];
    for (const [propertyId, platform, status] of [
      [p1, "airbnb", "active"],
      [p1, "booking_com", "paused"],
      [p1, "google", "active"],
      [p2, "airbnb", "active"],
      [p2, "ical", "error"],
    ]) {
      ids.push(
        (
          await connect(t, {
            property_id: propertyId,
            platform,
            status,
            external_property_id: uniqueDigits(9),
          })
        ).id,
      );
    }
    const seen: Connection[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res: { status: number; body: Page<Connection> } = await call<Page<Connection>>(
        "GET",
        `/api/v1/channel-connections?limit=2${q}`,
        t.readOnly,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.map((c) => c.id).sort()).toEqual([...ids].sort());
    for (let i = 1; i < seen.length; i++) {
      const prev = seen[i - 1] as Connection;
      const cur = seen[i] as Connection;
      expect(
        prev.created_at > cur.created_at ||
          (prev.created_at === cur.created_at && prev.id > cur.id),
      ).toBe(true);
    }
    const filtered = async (q: string) =>
      (await call<Page<Connection>>("GET", `/api/v1/channel-connections?${q}`, t.admin)).body.data
        .map((c) => c.id)
        .sort();
    expect(await filtered(`property_id=${p1}`)).toEqual([ids[0], ids[1], ids[2]].sort());
    expect(await filtered("platform=airbnb")).toEqual([ids[0], ids[3]].sort());
    expect(await filtered("status=active")).toEqual([ids[0], ids[2], ids[3]].sort());
    expect(await filtered(`property_id=${p2}&status=error`)).toEqual([ids[4]]);
  });

  it("pages the sync log newest first with ties broken by id", async () => {
    const propertyId = await createProperty(a, "Logs");
    const created = await connect(a, {
      property_id: propertyId,
      platform: "airbnb",
      external_property_id: uniqueDigits(8),
    });
    const t0 = 1_700_000_000_000;
    const rows: Array<[string, number]> = [
      ["syn_a1", t0 + 1000],
      ["syn_b2", t0 + 3000],
      ["syn_c3", t0 + 2000],
      ["syn_d4", t0 + 3000],
      ["syn_e5", t0 + 2000],
      ["syn_f6", t0],
    ];
    const insert = (id: string, tenantId: string, connectionId: string, at: number) =>
      env.DB.prepare(
        `INSERT INTO sync_logs (id, tenant_id, connection_id, event_id, sync_type, direction, status,
           records_processed, retry_count, error, triggered_at, started_at, finished_at, duration_ms)
         VALUES (?, ?, ?, NULL, 'availability_export', 'outbound', 'success', 3, 0, NULL, ?, ?, ?, 12)`,
      ).bind(`${id}_${created.id}`, tenantId, connectionId, at, at, at + 12);
    await env.DB.batch([
      ...rows.map(([id, at]) => insert(id, a.tenantId, created.id, at)),
      // Another connection's entry never shows up here.
      insert("syn_other", a.tenantId, "con_other", t0 + 5000),
    ]);

    const seen: SyncLog[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res: { status: number; body: Page<SyncLog> } = await call<Page<SyncLog>>(
        "GET",
        `/api/v1/channel-connections/${created.id}/sync-logs?limit=2${q}`,
        a.readOnly,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.map((s) => s.id)).toEqual(
      ["syn_d4", "syn_b2", "syn_e5", "syn_c3", "syn_a1", "syn_f6"].map(
        (id) => `${id}_${created.id}`,
      ),
    );
    expect(seen[0]).toEqual({
      id: `syn_d4_${created.id}`,
      event_id: null,
      sync_type: "availability_export",
      direction: "outbound",
      status: "success",
      records_processed: 3,
      retry_count: 0,
      error: null,
      triggered_at: t0 + 3000,
      started_at: t0 + 3000,
      finished_at: t0 + 3012,
      duration_ms: 12,
    });
  });

  it("isolates tenants: 401 without a token, 403 read-only writes, 404 across tenants", async () => {
    const propertyId = await createProperty(a, "Isolated");
    const external = uniqueDigits(7);
    const created = await connect(a, {
      property_id: propertyId,
      platform: "booking_com",
      external_property_id: external,
      credentials: { api_key: SECRET },
    });
    await env.DB.prepare(
      `INSERT INTO sync_logs (id, tenant_id, connection_id, sync_type, direction, status, triggered_at)
       VALUES (?, ?, ?, 'availability_export', 'outbound', 'success', ?)`,
    )
      .bind(`syn_iso_${created.id}`, a.tenantId, created.id, Date.now())
      .run();
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/api/v1/channel-connections"],
      [
        "POST",
        "/api/v1/channel-connections",
        { property_id: propertyId, platform: "google", external_property_id: uniqueDigits(7) },
      ],
      ["GET", `/api/v1/channel-connections/${created.id}`],
      ["PATCH", `/api/v1/channel-connections/${created.id}`, { status: "paused" }],
      ["DELETE", `/api/v1/channel-connections/${created.id}`],
      ["GET", `/api/v1/channel-connections/${created.id}/sync-logs`],
    ];
    for (const [method, path, body] of routes) {
      const what = `${method} ${path}`;
      expect((await call(method, path, undefined, body)).status, what).toBe(401);
      const malformed = await api(path, {
        method,
        headers: { authorization: "Bearer" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(malformed.status, what).toBe(401);
      if (method !== "GET") {
        expect((await call(method, path, a.readOnly, body)).status, what).toBe(403);
      }
      if (path !== "/api/v1/channel-connections") {
        const cross = await call<ErrorBody>(method, path, b.admin, body);
        expect(cross.status, what).toBe(404);
        expect(cross.body.error.code, what).toBe("not_found");
        expect(JSON.stringify(cross.body), what).not.toContain(external);
      }
    }
    // B may not hang a connection on A's property (404 naming property_id).
    const onForeign = await call<ErrorBody>("POST", "/api/v1/channel-connections", b.admin, {
      property_id: propertyId,
      platform: "google",
      external_property_id: uniqueDigits(7),
    });
    expect(onForeign.status).toBe(404);
    expect(onForeign.body.error.message).toContain("property_id");
    // B's list and filters never show A's rows.
    const bList = await call<Page<Connection>>(
      "GET",
      `/api/v1/channel-connections?property_id=${propertyId}`,
      b.admin,
    );
    expect(bList).toEqual({ status: 200, body: { data: [], next_cursor: null } });
    // A's connection is untouched.
    const still = await call<Connection>(
      "GET",
      `/api/v1/channel-connections/${created.id}`,
      a.admin,
    );
    expect(still.body.status).toBe("pending");
  });

  it("is in the OpenAPI document", async () => {
    const doc = JSON.parse((await api("/openapi.json")).text) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, any> };
    };
    expect(Object.keys(doc.paths["/api/v1/channel-connections"] ?? {})).toEqual(
      expect.arrayContaining(["get", "post"]),
    );
    expect(Object.keys(doc.paths["/api/v1/channel-connections/{id}"] ?? {})).toEqual(
      expect.arrayContaining(["get", "patch", "delete"]),
    );
    expect(Object.keys(doc.paths["/api/v1/channel-connections/{id}/sync-logs"] ?? {})).toEqual([
      "get",
    ]);
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas.ChannelConnection?.properties ?? {})).toEqual(
      expect.arrayContaining(["gate_settings", "effective_gate_settings"]),
    );
    expect(Object.keys(schemas.CreateChannelConnection?.properties ?? {})).toContain(
      "gate_settings",
    );
    expect(Object.keys(schemas.UpdateChannelConnection?.properties ?? {})).toContain(
      "gate_settings",
    );
    // The overrides component stays a plain object (null is allowed where it is used).
    expect(schemas.GateSettingsOverrides?.type).toBe("object");
    expect(schemas.GateSettingsOverrides?.additionalProperties).toBe(false);
    expect(Object.keys(schemas.GateSettingsOverrides?.properties ?? {}).sort()).toEqual([
      "circuit",
      "coalesce",
      "rate_limit",
    ]);
  });

  it("never returns a credential in any response body (scans every response of this file)", async () => {
    // A rejected body that carries credentials does not echo them either.
    const propertyId = await createProperty(a, "Echo");
    const refused = await call<ErrorBody>("POST", "/api/v1/channel-connections", a.admin, {
      property_id: propertyId,
      platform: "hrs",
      external_property_id: "x",
      credentials: { api_key: SECRET, "bad key": SECRET_2, n: 1 },
    });
    expect(refused.status).toBe(422);
    expect(bodies.length).toBeGreaterThan(50);
    for (const text of bodies) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SECRET_2);
      expect(text).not.toContain("TOPSECRET");
      expect(text).not.toMatch(/v1:k[12]:/);
      expect(text).not.toContain("credentials_ciphertext");
    }
  });
});
