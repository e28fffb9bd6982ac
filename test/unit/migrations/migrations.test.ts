import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Migration 0001 against a database in the shape 0000 left it, holding exactly the state issue 9
 * found: one Airbnb listing mapped live by two tenants, and mappings left live on a deleted
 * connection. The owner index cannot exist over that, so the migration must first settle it —
 * without guessing an owner — and then the index must refuse any second live owner.
 */

const statements = (file: string) =>
  readFileSync(new URL(`../../../migrations/${file}`, import.meta.url), "utf8")
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter(Boolean);

let mf: Miniflare;
let db: D1Database;

const run = async (sql: string, ...binds: unknown[]) =>
  db
    .prepare(sql)
    .bind(...binds)
    .run();
const all = async <T>(sql: string, ...binds: unknown[]) =>
  (
    await db
      .prepare(sql)
      .bind(...binds)
      .all<T>()
  ).results;

async function seedBefore0001(): Promise<void> {
  const t = 1_700_000_000_000;
  for (const tenant of ["ten_a", "ten_k"]) {
    await run(`INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`, tenant, tenant, t);
    await run(
      `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, 'P', 'UTC', ?)`,
      `prop_${tenant}`,
      tenant,
      t,
    );
  }
  const connection = (id: string, tenant: string, platform: string, ext: string, deleted = false) =>
    run(
      `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id,
         created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      tenant,
      `prop_${tenant}`,
      platform,
      ext,
      t,
      t,
      deleted ? t : null,
    );
  await connection("con_a_ab", "ten_a", "airbnb", "41000001");
  await connection("con_k_ab", "ten_k", "airbnb", "42000001");
  await connection("con_a_old", "ten_a", "booking_com", "1500001", true);
  await connection("con_a_g", "ten_a", "google", "hotel-a");
  await connection("con_k_g", "ten_k", "google", "hotel-k");
  const mapping = (id: string, tenant: string, con: string, platform: string, ext: string) =>
    run(
      `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
         external_id, created_at, updated_at) VALUES (?, ?, ?, ?, 'room_type', ?, ?, ?, ?)`,
      id,
      tenant,
      con,
      platform,
      `rt_${id}`,
      ext,
      t,
      t,
    );
  await mapping("map_a_owner", "ten_a", "con_a_ab", "airbnb", "41000001");
  await mapping("map_k_squat", "ten_k", "con_k_ab", "airbnb", "41000001");
  await mapping("map_k_own", "ten_k", "con_k_ab", "airbnb", "42000001");
  await mapping("map_a_dead", "ten_a", "con_a_old", "booking_com", "150000101");
  // Google room codes are each hotel's own: the same code in two hotels is no clash.
  await mapping("map_a_g", "ten_a", "con_a_g", "google", "double");
  await mapping("map_k_g", "ten_k", "con_k_g", "google", "double");
}

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response('') } }",
    d1Databases: { DB: "migrations-test" },
  });
  db = (await mf.getD1Database("DB")) as unknown as D1Database;
  for (const sql of statements("0000_init.sql")) await run(sql);
  await seedBefore0001();
  for (const sql of statements("0001_ownership_and_event_truth.sql")) await run(sql);
}, 60_000);

afterAll(() => mf?.dispose());

describe("migration 0001: one live owner per platform id", () => {
  it("removes every live copy of a shared id, each with a critical alert to its tenant", async () => {
    const rows = await all<{ id: string; status: string; deleted: number }>(
      `SELECT id, status, deleted_at IS NOT NULL AS deleted FROM channel_mappings
       WHERE external_id = '41000001' ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: "map_a_owner", status: "refused", deleted: 1 },
      { id: "map_k_squat", status: "refused", deleted: 1 },
    ]);
    const alerts = await all<{ tenant_id: string; kind: string; severity: string }>(
      `SELECT tenant_id, kind, severity FROM alerts ORDER BY tenant_id`,
    );
    expect(alerts).toEqual([
      { tenant_id: "ten_a", kind: "mapping_refused", severity: "critical" },
      { tenant_id: "ten_k", kind: "mapping_refused", severity: "critical" },
    ]);
  });

  it("deletes a deleted connection's mappings and keeps the rest live, due for a platform check", async () => {
    const rows = await all<{ id: string; live: number; next: number | null; scope: string }>(
      `SELECT id, deleted_at IS NULL AS live, next_verify_at AS next, external_scope AS scope
       FROM channel_mappings WHERE id IN ('map_a_dead', 'map_k_own', 'map_a_g', 'map_k_g') ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: "map_a_dead", live: 0, next: null, scope: "" },
      { id: "map_a_g", live: 1, next: 0, scope: "con_a_g" },
      { id: "map_k_g", live: 1, next: 0, scope: "con_k_g" },
      { id: "map_k_own", live: 1, next: 0, scope: "" },
    ]);
  });

  it("then refuses a second live owner of a platform-wide id, from any tenant", async () => {
    const insert = (id: string, tenant: string, con: string) =>
      run(
        `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
           external_id, created_at, updated_at) VALUES (?, ?, ?, 'airbnb', 'room_type', 'rt_x', '42000001', 1, 1)`,
        id,
        tenant,
        con,
      );
    await expect(insert("map_a_again", "ten_a", "con_a_ab")).rejects.toThrow(
      /UNIQUE constraint failed: .*external_scope/,
    );
    // Once the owner's mapping is deleted, the id is free for whoever the platform confirms.
    await run(`UPDATE channel_mappings SET deleted_at = 1 WHERE id = 'map_k_own'`);
    await insert("map_a_after", "ten_a", "con_a_ab");
  });
});
