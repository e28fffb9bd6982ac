import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { connectionConfig, MissingCredentialsError } from "../../../src/services/connections";
import { verifyDueMappings } from "../../../src/jobs/verify-mappings";
import { seedBeds24, type Beds24Portfolio } from "../../support/beds24";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  uniqueDigits,
  type Delivery,
  type Portfolio,
} from "../../support/fixtures";
import { api, expectApi, tokenFor, type Json } from "./operator-fixtures";

/**
 * Tenants cannot reach each other on a platform either. A platform id is live in at most one
 * mapping across all tenants, and a mapping exists only once the platform confirmed — with the
 * connection's own credentials — that the id is this account's. Owner A holds its Airbnb listing,
 * Booking.com hotel, room and rate, and Beds24 property and room; tenant K, with accounts of its
 * own, tries to map each of them.
 */

let a: Portfolio;
let k: Portfolio;
let a24: Beds24Portfolio;
let k24: Beds24Portfolio;
const tokens = new Map<string, string>();
const token = (tenantId: string) => tokens.get(tenantId)!;

beforeAll(async () => {
  [a, k, a24, k24] = await Promise.all([
    seedPortfolio(),
    seedPortfolio({ mapped: false }),
    seedBeds24(),
    seedBeds24({ mapped: false }),
  ]);
  for (const t of [a.tenantId, k.tenantId, a24.tenantId, k24.tenantId]) {
    tokens.set(t, await tokenFor(t));
  }
});

const map = (tenantId: string, body: Json) =>
  api("POST", "/api/v1/channel-mappings", token(tenantId), body);

const liveMappingsOf = async (connectionId: string) =>
  (
    await env.DB.prepare(
      `SELECT mapping_type, external_id, status FROM channel_mappings
       WHERE connection_id = ? AND deleted_at IS NULL ORDER BY mapping_type, external_id`,
    )
      .bind(connectionId)
      .all<{ mapping_type: string; external_id: string; status: string }>()
  ).results;

interface Case {
  what: string;
  attempt: () => { tenantId: string; connectionId: string; type: string; internalId: string };
  /** The id another tenant's connection owns on the platform. */
  taken: () => string;
  /** An id the platform does not know at all. */
  unknown: () => string;
  noun: string;
}

const CASES: Case[] = [
  {
    what: "Airbnb listing as room type",
    attempt: () => ({
      tenantId: k.tenantId,
      connectionId: k.airbnb.connectionId,
      type: "room_type",
      internalId: k.roomTypeId,
    }),
    taken: () => a.airbnb.listingId,
    unknown: () => uniqueDigits(11),
    noun: "listing",
  },
  {
    what: "Airbnb listing as property",
    attempt: () => ({
      tenantId: k.tenantId,
      connectionId: k.airbnb.connectionId,
      type: "property",
      internalId: k.propertyId,
    }),
    taken: () => a.airbnb.listingId,
    unknown: () => uniqueDigits(11),
    noun: "listing",
  },
  {
    what: "Booking.com room",
    attempt: () => ({
      tenantId: k.tenantId,
      connectionId: k.booking.connectionId,
      type: "room_type",
      internalId: k.roomTypeId,
    }),
    taken: () => a.booking.roomId,
    unknown: () => uniqueDigits(11),
    noun: "room",
  },
  {
    what: "Booking.com rate plan",
    attempt: () => ({
      tenantId: k.tenantId,
      connectionId: k.booking.connectionId,
      type: "rate_plan",
      internalId: `rp_${k.propertyId.slice(5)}`,
    }),
    taken: () => a.booking.ratePlanId,
    unknown: () => uniqueDigits(11),
    noun: "rate plan",
  },
  {
    what: "Booking.com hotel as property",
    attempt: () => ({
      tenantId: k.tenantId,
      connectionId: k.booking.connectionId,
      type: "property",
      internalId: k.propertyId,
    }),
    taken: () => a.booking.hotelId,
    unknown: () => uniqueDigits(9),
    noun: "hotel",
  },
  {
    what: "Beds24 room",
    attempt: () => ({
      tenantId: k24.tenantId,
      connectionId: k24.connectionId,
      type: "room_type",
      internalId: k24.rooms[0]!.roomTypeId,
    }),
    taken: () => a24.rooms[0]!.roomId,
    unknown: () => `8${uniqueDigits(7)}`,
    noun: "room",
  },
  {
    what: "Beds24 property",
    attempt: () => ({
      tenantId: k24.tenantId,
      connectionId: k24.connectionId,
      type: "property",
      internalId: k24.propertyId,
    }),
    taken: () => a24.propId,
    unknown: () => `9${uniqueDigits(6)}`,
    noun: "property",
  },
];

describe("one live owner per platform id", () => {
  it.each(CASES)(
    "refuses another tenant's $what, in the same words as an id the platform does not know",
    async (c) => {
      const t = c.attempt();
      const body = (externalId: string) => ({
        connection_id: t.connectionId,
        mapping_type: t.type,
        internal_id: t.internalId,
        external_id: externalId,
      });
      const taken = await map(t.tenantId, body(c.taken()));
      const unknown = await map(t.tenantId, body(c.unknown()));
      expect(taken.status, taken.text).toBe(422);
      expect(taken.json.error).toEqual({
        code: "external_id_unavailable",
        message: `this ${c.noun} cannot be mapped: it is already connected elsewhere, or not reachable with this connection's credentials`,
        details: [{ path: "external_id", message: taken.json.error.message }],
      });
      // Nothing tells the two apart: not the status, the code, the words or the details.
      expect({ status: unknown.status, error: unknown.json.error }).toEqual({
        status: taken.status,
        error: taken.json.error,
      });
      expect(await liveMappingsOf(t.connectionId)).toEqual([]);
    },
  );

  it("refuses the same through PUT of an existing mapping, which keeps pointing where it did", async () => {
    const own = await map(k.tenantId, {
      connection_id: k.airbnb.connectionId,
      mapping_type: "room_type",
      internal_id: k.roomTypeId,
      external_id: k.airbnb.listingId,
    });
    expect(own.status, own.text).toBe(201);
    expect(own.json).toMatchObject({ status: "confirmed", verified_at: expect.any(Number) });
    const moved = await api("PUT", `/api/v1/channel-mappings/${own.json.id}`, token(k.tenantId), {
      external_id: a.airbnb.listingId,
    });
    expect(moved.status).toBe(422);
    expect(moved.json.error.code).toBe("external_id_unavailable");
    const after = await expectApi(
      200,
      "GET",
      `/api/v1/channel-mappings/${own.json.id}`,
      token(k.tenantId),
    );
    expect(after).toMatchObject({ external_id: k.airbnb.listingId, status: "confirmed" });
    await expectApi(200, "DELETE", `/api/v1/channel-mappings/${own.json.id}`, token(k.tenantId));
  });

  it("refuses a listing the platform says is another host's, even when nobody maps it", async () => {
    const stranger = await sandbox<{ account: string }>("POST", "/_sandbox/airbnb/accounts", {});
    const listing = uniqueDigits(10);
    await sandbox("PUT", `/_sandbox/airbnb/listings/${listing}`, { account: stranger.account });
    const res = await map(k.tenantId, {
      connection_id: k.airbnb.connectionId,
      mapping_type: "room_type",
      internal_id: k.roomTypeId,
      external_id: listing,
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("external_id_unavailable");
  });

  // Platforms without an adapter yet cannot be asked: the mapping is kept pending, and the
  // database alone refuses a second live owner (409, the same words). Ids a platform scopes per
  // property (Google room and rate codes) are each connection's own and never clash.
  const NO_ADAPTER = [
    ["expedia", "property", "hotel", () => uniqueDigits(8)],
    ["expedia", "room_type", "room type", () => uniqueDigits(9)],
    ["expedia", "rate_plan", "rate plan", () => uniqueDigits(9)],
    ["fewo_direkt", "property", "listing", () => uniqueDigits(9)],
    ["fewo_direkt", "room_type", "listing", () => uniqueDigits(9)],
    ["google", "property", "hotel", () => `hotel-${uniqueDigits(6)}`],
    ["ical", "room_type", "feed", () => `https://calendar.example.com/${uniqueDigits(8)}.ics`],
  ] as const;

  const connect = async (p: Portfolio, platform: string) =>
    (
      await expectApi(201, "POST", "/api/v1/channel-connections", token(p.tenantId), {
        property_id: p.propertyId,
        platform,
        external_property_id: `7${uniqueDigits(8)}`,
        status: "active",
      })
    ).id as string;
  const internalOf = (p: Portfolio, type: string) =>
    type === "property"
      ? p.propertyId
      : type === "room_type"
        ? p.roomTypeId
        : `rp_${p.propertyId.slice(5)}`;

  it.each(NO_ADAPTER)(
    "%s %s: kept pending; a second tenant gets 409 in the same words",
    async (platform, type, noun, id) => {
      const [p, q] = [
        await seedPortfolio({ mapped: false }),
        await seedPortfolio({ mapped: false }),
      ];
      for (const t of [p.tenantId, q.tenantId]) tokens.set(t, await tokenFor(t));
      const externalId = id();
      const body = async (o: Portfolio) => ({
        connection_id: await connect(o, platform),
        mapping_type: type,
        internal_id: internalOf(o, type),
        external_id: externalId,
      });
      const first = await map(p.tenantId, await body(p));
      expect(first.status, first.text).toBe(201);
      expect(first.json).toMatchObject({
        status: "pending",
        verification_error: expect.stringContaining("has no adapter yet"),
      });
      const second = await map(q.tenantId, await body(q));
      expect(second.status, second.text).toBe(409);
      expect(second.json.error).toMatchObject({
        code: "external_id_unavailable",
        message: `this ${noun} cannot be mapped: it is already connected elsewhere, or not reachable with this connection's credentials`,
      });
    },
  );

  it("Google room codes are each hotel's own: two tenants may both map 'double'", async () => {
    const [p, q] = [await seedPortfolio({ mapped: false }), await seedPortfolio({ mapped: false })];
    for (const t of [p.tenantId, q.tenantId]) tokens.set(t, await tokenFor(t));
    for (const o of [p, q]) {
      const res = await map(o.tenantId, {
        connection_id: await connect(o, "google"),
        mapping_type: "room_type",
        internal_id: o.roomTypeId,
        external_id: "double",
      });
      expect(res.status, res.text).toBe(201);
    }
  });

  it("a connection for a platform property another tenant holds is refused without naming anyone", async () => {
    const res = await api("POST", "/api/v1/channel-connections", token(k.tenantId), {
      property_id: k.propertyId,
      platform: "beds24",
      external_property_id: a24.propId,
    });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe("external_id_unavailable");
    expect(res.json.error.message).toBe(
      "this property cannot be connected: it is already connected elsewhere, or not reachable with this connection's credentials",
    );
    expect(res.text).not.toContain(a24.tenantId);
    expect(res.text).not.toContain(a24.connectionId);
  });

  it("a soft-deleted mapping's listing can be mapped again, by its tenant or (after a host transfer) another", async () => {
    const p = await seedPortfolio({ mapped: false });
    const q = await seedPortfolio({ mapped: false });
    for (const t of [p.tenantId, q.tenantId]) tokens.set(t, await tokenFor(t));
    const mapping = (owner: Portfolio) => ({
      connection_id: owner.airbnb.connectionId,
      mapping_type: "room_type",
      internal_id: owner.roomTypeId,
      external_id: p.airbnb.listingId,
    });
    const first = await map(p.tenantId, mapping(p));
    expect(first.status).toBe(201);
    await expectApi(200, "DELETE", `/api/v1/channel-mappings/${first.json.id}`, token(p.tenantId));
    const again = await map(p.tenantId, mapping(p));
    expect(again.status, again.text).toBe(201);
    // Still live at P: Q is refused even once the listing moves to Q's host account.
    await sandbox("PUT", `/_sandbox/airbnb/listings/${p.airbnb.listingId}`, {
      account: q.airbnb.account,
    });
    const blocked = await map(q.tenantId, mapping(q));
    expect(blocked.status).toBe(409);
    expect(blocked.json.error.code).toBe("external_id_unavailable");
    await expectApi(200, "DELETE", `/api/v1/channel-mappings/${again.json.id}`, token(p.tenantId));
    const moved = await map(q.tenantId, mapping(q));
    expect(moved.status, moved.text).toBe(201);
    expect(moved.json.status).toBe("confirmed");
  });
});

describe("a mapping the platform has not confirmed", () => {
  it("is kept pending while the platform is down, pushes and routes nothing, and syncs once confirmed", async () => {
    const p = await seedPortfolio({ mapped: false });
    tokens.set(p.tenantId, await tokenFor(p.tenantId));
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 1, fail_status: 503 });
    const created = await map(p.tenantId, {
      connection_id: p.airbnb.connectionId,
      mapping_type: "room_type",
      internal_id: p.roomTypeId,
      external_id: p.airbnb.listingId,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ status: "pending", verified_at: null });
    expect(created.json.verification_error).toContain("503");

    // A change to the room type: the gate keeps it, sending nothing to the unconfirmed listing.
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    await gate.markDirty({
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      roomTypeId: p.roomTypeId,
      ranges: [{ start: addDaysUtc(30), end: addDaysUtc(31) }],
      causeKey: "test",
      changedAt: Date.now(),
    });
    await gate.flushNow();
    const pushes = async () =>
      (
        await sandbox<{ requests: Array<{ method: string; path: string }> }>(
          "GET",
          "/_sandbox/airbnb/requests?limit=500",
        )
      ).requests.filter(
        (r) => r.method === "PUT" && r.path.includes(`/listings/${p.airbnb.listingId}/`),
      );
    expect(await pushes()).toEqual([]);
    // A booking for the listing is kept unmapped for nobody, not imported anywhere.
    const { reservation, deliveries } = await sandbox<{
      reservation: { confirmation_code: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: p.airbnb.listingId,
      start_date: addDaysUtc(40),
      end_date: addDaysUtc(42),
    });
    expect((await deliver(deliveries[0]!)).status).toBe(202);
    const key = `airbnb:${JSON.parse(deliveries[0]!.body).event_id}`;
    await eventually(
      async () =>
        (
          await env.DB.prepare(`SELECT status FROM channel_events WHERE idempotency_key = ?`)
            .bind(key)
            .first<{ status: string }>()
        )?.status === "unmapped",
      { what: "event kept unmapped" },
    );

    // The platform is back: the job confirms it; held work goes out and the booking imports.
    const run = await verifyDueMappings(env, Date.now() + 61_000);
    expect(run.confirmed).toBeGreaterThanOrEqual(1);
    expect(await liveMappingsOf(p.airbnb.connectionId)).toEqual([
      { mapping_type: "room_type", external_id: p.airbnb.listingId, status: "confirmed" },
    ]);
    expect((await pushes()).length).toBeGreaterThan(0);
    const booking = await eventually(
      async () =>
        env.DB.prepare(`SELECT tenant_id, status FROM bookings WHERE channel_booking_id = ?`)
          .bind(reservation.confirmation_code)
          .first<{ tenant_id: string; status: string }>(),
      { what: "booking imported after confirmation" },
    );
    expect(booking).toEqual({ tenant_id: p.tenantId, status: "confirmed" });
  });
});

describe("shared credentials only where the platform shares them", () => {
  it("the app-level host credentials serve only APP_CREDENTIALS_TENANT, never a second tenant", async () => {
    const [owner, other] = [await seedPortfolio(), await seedPortfolio()];
    for (const p of [owner, other]) {
      await env.DB.prepare(
        `UPDATE channel_connections SET credentials_ciphertext = NULL, credentials_key_id = NULL WHERE id = ?`,
      )
        .bind(p.airbnb.connectionId)
        .run();
    }
    const withFallback = { ...env, APP_CREDENTIALS_TENANT: owner.tenantId } as Env;
    const of = (p: Portfolio, e: Env) =>
      connectionConfig(e, { id: p.airbnb.connectionId, tenantId: p.tenantId, platform: "airbnb" });
    expect((await of(owner, withFallback)).credentials.refreshToken).toBe(env.AIRBNB_REFRESH_TOKEN);
    await expect(of(other, withFallback)).rejects.toBeInstanceOf(MissingCredentialsError);
    // Off by default: nobody borrows them.
    await expect(of(owner, env)).rejects.toBeInstanceOf(MissingCredentialsError);
    // Booking.com's one provider account serves every property that authorised it.
    const booking = await connectionConfig(env, {
      id: other.booking.connectionId,
      tenantId: other.tenantId,
      platform: "booking_com",
    });
    expect(booking.credentials.clientId).toBe(env.BOOKING_COM_CLIENT_ID);

    // Through the API: mapping on a connection without credentials of its own names the fix.
    tokens.set(other.tenantId, await tokenFor(other.tenantId));
    const res = await map(other.tenantId, {
      connection_id: other.airbnb.connectionId,
      mapping_type: "property",
      internal_id: other.propertyId,
      external_id: other.airbnb.listingId,
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("credentials_required");
    expect(res.json.error.message).toContain("credentials.refresh_token");
  });
});
