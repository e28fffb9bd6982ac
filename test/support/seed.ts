import { expect } from "vitest";
import { api } from "./api";
import { sandbox, uniqueDigits } from "./fixtures";

/**
 * Seed builders: tenants, properties, room types, rate plans, connections and mappings made
 * through the admin API, as a user would, so every row is what the engine itself writes. Each
 * step asserts its own status, so a seed that fails names the call. (`seedPortfolio()` in
 * fixtures.ts writes straight to D1 for the consumer and gate tests that need no API round trip.)
 */

const OPERATOR_TOKEN = "test-operator-token";

export interface SeededTenant {
  tenantId: string;
  /** The tenant's first admin token, as POST /tenants issued it. */
  admin: string;
  adminTokenId: string;
}

export interface SeededTenantWithViewer extends SeededTenant {
  /** A read-only token (POST /tokens without a role). */
  readOnly: string;
}

export type SeedPlatform = "airbnb" | "booking_com";

export interface SeededConnection {
  connectionId: string;
  /** The platform's property id: the Airbnb listing, or the Booking.com hotel. */
  externalPropertyId: string;
  /** Airbnb only: the sandbox host account whose refresh token is the connection's credentials. */
  account?: string;
  /** The room-type mapping of the first room type, when `mapped`. */
  mappingId?: string;
}

export interface SeededProperty {
  tenant: SeededTenant;
  propertyId: string;
  roomTypeIds: string[];
  /** One rate plan per room type, in the same order. */
  ratePlanIds: string[];
  connections: Partial<Record<SeedPlatform, SeededConnection>>;
}

export interface PropertySeed {
  /** The tenant to add the property to; a new one by default. */
  tenant?: SeededTenant;
  name?: string;
  timeZone?: string;
  /** How many room types (default 1), each with `units` units and a rate plan. */
  roomTypes?: number;
  units?: number;
  /** Platforms to connect; the first room type is mapped on each unless `mapped: false`. */
  platforms?: readonly SeedPlatform[];
  mapped?: boolean;
}

async function tenant(opts?: { name?: string; readOnly?: false }): Promise<SeededTenant>;
async function tenant(opts: { name?: string; readOnly: true }): Promise<SeededTenantWithViewer>;
async function tenant(
  opts: { name?: string; readOnly?: boolean } = {},
): Promise<SeededTenant | SeededTenantWithViewer> {
  const name = opts.name ?? `Agency ${uniqueDigits(6)}`;
  const res = await api(OPERATOR_TOKEN).POST("/api/v1/tenants", { body: { name } });
  expect(res.response.status, "POST /api/v1/tenants").toBe(201);
  const created = res.data!;
  const seeded: SeededTenant = {
    tenantId: created.tenant.id,
    admin: created.token.token,
    adminTokenId: created.token.id,
  };
  if (!opts.readOnly) return seeded;
  const ro = await api(seeded.admin).POST("/api/v1/tokens", { body: { name: "viewer" } });
  expect(ro.response.status, "POST /api/v1/tokens").toBe(201);
  return { ...seeded, readOnly: ro.data!.token };
}

async function roomTypeWithRatePlan(
  admin: string,
  propertyId: string,
  index: number,
  units: number,
): Promise<{ roomTypeId: string; ratePlanId: string }> {
  const client = api(admin);
  const params = { path: { id: propertyId } };
  const rt = await client.POST("/api/v1/properties/{id}/room-types", {
    params,
    body: { name: `Room ${index + 1}`, units },
  });
  expect(rt.response.status, "POST …/room-types").toBe(201);
  const roomTypeId = rt.data!.id;
  const rp = await client.POST("/api/v1/properties/{id}/rate-plans", {
    params,
    body: { room_type_id: roomTypeId, name: `Standard ${index + 1}` },
  });
  expect(rp.response.status, "POST …/rate-plans").toBe(201);
  return { roomTypeId, ratePlanId: rp.data!.id };
}

/** The sandbox side of a platform property, and the credentials that own it. */
async function platformSide(platform: SeedPlatform, roomId: string) {
  if (platform === "airbnb") {
    const host = await sandbox<{ account: string; refresh_token: string }>(
      "POST",
      "/_sandbox/airbnb/accounts",
      {},
    );
    await sandbox("PUT", `/_sandbox/airbnb/listings/${roomId}`, { account: host.account });
    return {
      external: roomId,
      account: host.account,
      credentials: { refresh_token: host.refresh_token },
    };
  }
  const hotel = uniqueDigits(7);
  await sandbox("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/${roomId}`, { units: 1 });
  return { external: hotel, account: undefined, credentials: undefined };
}

async function connect(
  admin: string,
  propertyId: string,
  platform: SeedPlatform,
  roomTypeId: string | undefined,
): Promise<SeededConnection> {
  const client = api(admin);
  const room = uniqueDigits(platform === "airbnb" ? 10 : 9);
  const side = await platformSide(platform, room);
  const con = await client.POST("/api/v1/channel-connections", {
    body: {
      property_id: propertyId,
      platform,
      external_property_id: side.external,
      ...(side.credentials ? { credentials: side.credentials } : {}),
    },
  });
  expect(con.response.status, `POST /api/v1/channel-connections (${platform})`).toBe(201);
  const seeded: SeededConnection = {
    connectionId: con.data!.id,
    externalPropertyId: side.external,
    ...(side.account ? { account: side.account } : {}),
  };
  if (roomTypeId === undefined) return seeded;
  const map = await client.POST("/api/v1/channel-mappings", {
    body: {
      connection_id: seeded.connectionId,
      mapping_type: "room_type",
      internal_id: roomTypeId,
      external_id: room,
    },
  });
  expect(map.response.status, `POST /api/v1/channel-mappings (${platform})`).toBe(201);
  return { ...seeded, mappingId: map.data!.id };
}

async function property(opts: PropertySeed = {}): Promise<SeededProperty> {
  const owner = opts.tenant ?? (await tenant());
  const created = await api(owner.admin).POST("/api/v1/properties", {
    body: {
      name: opts.name ?? `House ${uniqueDigits(6)}`,
      time_zone: opts.timeZone ?? "Europe/Berlin",
    },
  });
  expect(created.response.status, "POST /api/v1/properties").toBe(201);
  const propertyId = created.data!.id;
  const seeded: SeededProperty = {
    tenant: owner,
    propertyId,
    roomTypeIds: [],
    ratePlanIds: [],
    connections: {},
  };
  for (let i = 0; i < (opts.roomTypes ?? 1); i++) {
    const made = await roomTypeWithRatePlan(owner.admin, propertyId, i, opts.units ?? 1);
    seeded.roomTypeIds.push(made.roomTypeId);
    seeded.ratePlanIds.push(made.ratePlanId);
  }
  const mappedRoomType = opts.mapped === false ? undefined : seeded.roomTypeIds[0];
  for (const platform of opts.platforms ?? []) {
    seeded.connections[platform] = await connect(owner.admin, propertyId, platform, mappedRoomType);
  }
  return seeded;
}

export const seed = { tenant, property };
