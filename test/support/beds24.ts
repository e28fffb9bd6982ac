import { env } from "cloudflare:workers";
import { encryptCredentials } from "../../src/lib/credentials-crypto";
import { sandbox, SANDBOX, uniqueDigits } from "./fixtures";

export interface Beds24Portfolio {
  tenantId: string;
  propertyId: string;
  connectionId: string;
  /** The Beds24 property (propId) and its sandbox account, whose credits the gate spends. */
  propId: string;
  account: string;
  rooms: Array<{ roomTypeId: string; roomId: string }>;
}

/**
 * A tenant with one hotel of `rooms` room types (1 unit each, 120.00 EUR), connected to the
 * sandbox's Beds24 through a fresh account: invite code → refresh token, stored as the
 * connection's encrypted credentials. The sandbox rooms belong to that account and start at
 * `sandboxUnits` and 50.00, so a push shows.
 */
export async function seedBeds24(
  opts: { rooms?: number; sandboxUnits?: number; mapped?: boolean } = {},
): Promise<Beds24Portfolio> {
  const s = uniqueDigits(8);
  const now = Date.now();
  const count = opts.rooms ?? 1;
  const { code, account } = await sandbox<{ code: string; account: string }>(
    "POST",
    "/_sandbox/beds24/invite-codes",
    {},
  );
  const setup = await fetch(`${SANDBOX}/beds24/authentication/setup`, { headers: { code } });
  const { refreshToken } = await setup.json<{ refreshToken: string }>();
  const p: Beds24Portfolio = {
    tenantId: `ten_b24_${s}`,
    propertyId: `prop_b24_${s}`,
    connectionId: `con_b24_${s}`,
    propId: `4${uniqueDigits(5)}`,
    account,
    rooms: Array.from({ length: count }, (_, i) => ({
      roomTypeId: `rt_b24_${s}_${i}`,
      roomId: `7${uniqueDigits(7)}`,
    })),
  };
  const { ciphertext, keyId } = await encryptCredentials(
    env,
    { tenantId: p.tenantId, connectionId: p.connectionId },
    { refresh_token: refreshToken },
  );
  const db = env.DB;
  await db.batch([
    db
      .prepare(`INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`)
      .bind(p.tenantId, `Agency ${s}`, now),
    db
      .prepare(
        `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
      )
      .bind(p.propertyId, p.tenantId, `Hotel ${s}`, "Europe/Berlin", now),
    db
      .prepare(
        `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
           sync_direction, sync_availability, sync_pricing, sync_bookings, credentials_ciphertext,
           credentials_key_id, created_at, updated_at)
         VALUES (?, ?, ?, 'beds24', ?, 'active', 'bidirectional', 1, 1, 1, ?, ?, ?, ?)`,
      )
      .bind(p.connectionId, p.tenantId, p.propertyId, p.propId, ciphertext, keyId, now, now),
    ...p.rooms.flatMap((r, i) => [
      db
        .prepare(
          `INSERT INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at)
           VALUES (?, ?, ?, ?, 1, 12000, 'EUR', ?)`,
        )
        .bind(r.roomTypeId, p.tenantId, p.propertyId, `Double ${i + 1}`, now),
    ]),
    // `mapped: false` leaves the mappings to the test (through the API, as a user would).
    ...(opts.mapped === false ? [] : p.rooms).map((r) =>
      db
        .prepare(
          `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
             external_id, created_at, updated_at) VALUES (?, ?, ?, 'beds24', 'room_type', ?, ?, ?, ?)`,
        )
        .bind(`map_${r.roomTypeId}`, p.tenantId, p.connectionId, r.roomTypeId, r.roomId, now, now),
    ),
  ]);
  for (const r of p.rooms) {
    // The property belongs to the connection's account: another account's rooms are refused.
    await sandbox("PUT", `/_sandbox/beds24/properties/${p.propId}/rooms/${r.roomId}`, {
      account,
      units: opts.sandboxUnits ?? 3,
      price: "50.00",
      currency: "EUR",
    });
  }
  return p;
}
