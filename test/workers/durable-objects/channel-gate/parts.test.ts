import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { gateFor } from "../../../../durable-objects/channel-gate/client";
import { GateJobs } from "../../../../durable-objects/channel-gate/jobs";
import { GateStorage } from "../../../../durable-objects/channel-gate/storage";
import { addDaysUtc, seedPortfolio, uniqueDigits, type Portfolio } from "../../../support/fixtures";

/**
 * The gate's parts (durable-objects/channel-gate/): the jobs registry dispatches by name and
 * fails loudly on a name it does not know; every part's versioned migration adopts the tables a
 * gate created before versioning, rows intact.
 */

afterEach(() => vi.restoreAllMocks());

const freshGate = () => gateFor(env, `parts-${uniqueDigits(10)}`);

describe("the jobs registry", () => {
  it("runs each due job by its name and arms the alarm for the earliest one left", async () => {
    await runInDurableObject(freshGate(), async (_gate: ChannelGate, state) => {
      const now = Date.now();
      const jobs = new GateJobs(new GateStorage(state.storage), state.storage, () => now);
      const ran: string[] = [];
      jobs.register("a", async (attempts) => void ran.push(`a:${attempts}`));
      jobs.register("b", async () => void ran.push("b"));
      jobs.set("a", now - 1, 2);
      jobs.set("b", now + 60_000, 0);
      await jobs.runDue();
      expect(ran).toEqual(["a:2"]);
      // A job ends by deleting or rescheduling itself; "a" did neither, so its lease stands.
      expect(jobs.get("a")?.dueAt).toBe(now + 60_000);
      expect(await state.storage.getAlarm()).toBe(now + 60_000);
      expect(() => jobs.register("a", async () => {})).toThrow(/registered twice/);
      await state.storage.deleteAlarm();
    });
  });

  it("keeps a job no handler claims, fails it loudly and retries it later, instead of dropping it", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await runInDurableObject(freshGate(), async (gate: ChannelGate, state) => {
      const now = Date.now();
      state.storage.sql.exec(
        `INSERT INTO jobs (name, due_at, attempts) VALUES ('reconcile', ?, 0)`,
        now - 1,
      );
      await gate.alarm();
      const row = state.storage.sql
        .exec<{ due_at: number; attempts: number }>(
          `SELECT due_at, attempts FROM jobs WHERE name = 'reconcile'`,
        )
        .toArray()[0];
      expect(row?.attempts).toBe(1);
      expect(row!.due_at).toBeGreaterThan(now);
      expect(await state.storage.getAlarm()).toBe(row!.due_at);
      await state.storage.deleteAlarm();
    });
    const logged = errors.mock.calls.map((c) => String(c[0]));
    expect(logged.some((l) => l.includes("gate.job_failed") && l.includes("reconcile"))).toBe(true);
  });
});

/**
 * Gate storage as the builds before versioned migrations left it: the constructor ran
 * CREATE TABLE IF NOT EXISTS for every table, then added the columns that came later. The
 * "current" shape is what that build's DDL creates; the "older" one lacks the added columns
 * (a gate first created before them and not opened since).
 */
const LEGACY_DDL = {
  current: `
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS pending_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      seq INTEGER NOT NULL, marked_at INTEGER NOT NULL, forced INTEGER NOT NULL DEFAULT 0,
      urgent INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (room_type_id, night, aspect));
    CREATE TABLE IF NOT EXISTS pushed_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      value TEXT NOT NULL, pushed_at INTEGER NOT NULL,
      PRIMARY KEY (room_type_id, night, aspect));
    CREATE TABLE IF NOT EXISTS jobs (
      name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS open_syncs (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS rate_spends (
      id TEXT PRIMARY KEY, at INTEGER NOT NULL, cost REAL NOT NULL,
      in_flight INTEGER NOT NULL DEFAULT 0, priority TEXT);
    CREATE TABLE IF NOT EXISTS token_broker (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL);
  `,
  older: `
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS pending_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      seq INTEGER NOT NULL, marked_at INTEGER NOT NULL,
      PRIMARY KEY (room_type_id, night, aspect));
    CREATE TABLE IF NOT EXISTS pushed_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      value TEXT NOT NULL, pushed_at INTEGER NOT NULL,
      PRIMARY KEY (room_type_id, night, aspect));
    CREATE TABLE IF NOT EXISTS jobs (
      name TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS open_syncs (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS rate_spends (id TEXT PRIMARY KEY, at INTEGER NOT NULL, cost REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS token_broker (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL);
  `,
};

const GATE_TABLES = [
  "meta",
  "pending_nights",
  "pushed_nights",
  "jobs",
  "open_syncs",
  "rate_spends",
  "token_broker",
];
const PARTS = ["jobs", "pending_nights", "pushed_nights", "limits", "sync_log", "tokens"];

type Shape = keyof typeof LEGACY_DDL;
const NOW = Date.now();
const NIGHTS = [addDaysUtc(3), addDaysUtc(4)];
const FLUSH_DUE = NOW + 3_600_000;
const BREAKER = {
  state: "closed",
  consecutiveFailures: 2,
  consecutiveSuccesses: 0,
  openedAt: null,
  probeUntil: null,
  opens: 1,
  changedAt: NOW - 5_000,
};

/** Back to what the unversioned build left: its tables, its rows, no schema versions. */
function writeLegacyGate(sql: SqlStorage, shape: Shape, p: Portfolio): void {
  for (const t of GATE_TABLES) sql.exec(`DROP TABLE IF EXISTS ${t}`);
  sql.exec(LEGACY_DDL[shape]);
  const meta: Array<[string, string]> = [
    ["connection_id", p.booking.connectionId],
    ["tenant_id", p.tenantId],
    ["seq", "7"],
    ["breaker", JSON.stringify(BREAKER)],
  ];
  for (const [k, v] of meta) sql.exec(`INSERT INTO meta (key, value) VALUES (?, ?)`, k, v);
  for (const night of NIGHTS) {
    sql.exec(
      `INSERT INTO pending_nights (room_type_id, night, aspect, seq, marked_at) VALUES (?, ?, 'availability', 7, ?)`,
      p.roomTypeId,
      night,
      NOW,
    );
  }
  if (shape === "current") sql.exec(`UPDATE pending_nights SET urgent = 1, forced = 1`);
  sql.exec(`INSERT INTO jobs (name, due_at, attempts) VALUES ('flush', ?, 3)`, FLUSH_DUE);
  sql.exec(`INSERT INTO rate_spends (id, at, cost) VALUES ('call_old', ?, 1)`, NOW - 1_000);
  sql.exec(`INSERT INTO token_broker (id, name) VALUES (1, 'booking_com|shared')`);
}

/** Every part at version 1, over the very rows the old build wrote. */
function expectRowsKept(sql: SqlStorage, shape: Shape): void {
  const version = (part: string) =>
    sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, `schema_version:${part}`)
      .one().value;
  expect(PARTS.map(version)).toEqual(PARTS.map(() => "1"));
  const marks = shape === "current" ? 1 : 0;
  expect(
    sql.exec(`SELECT night, seq, forced, urgent FROM pending_nights ORDER BY night`).toArray(),
  ).toEqual(NIGHTS.map((night) => ({ night, seq: 7, forced: marks, urgent: marks })));
  expect(sql.exec(`SELECT id, cost, in_flight, priority FROM rate_spends`).toArray()).toEqual([
    { id: "call_old", cost: 1, in_flight: 0, priority: null },
  ]);
  expect(sql.exec(`SELECT name FROM token_broker`).toArray()).toEqual([
    { name: "booking_com|shared" },
  ]);
}

describe("gate storage created before versioned migrations", () => {
  it.each(["current", "older"] as const)(
    "a gate whose tables the %s unversioned build created opens with its work, limits and tokens intact",
    async (shape) => {
      const p = await seedPortfolio();
      const gate = gateFor(env, p.booking.connectionId);
      await runInDurableObject(gate, (_gate: ChannelGate, state) =>
        writeLegacyGate(state.storage.sql, shape, p),
      );
      // A new instance: its constructor runs every part's migrations over those tables.
      await evictDurableObject(gate);

      await runInDurableObject(gate, async (instance: ChannelGate, state) => {
        expectRowsKept(state.storage.sql, shape);
        expect(await instance.status()).toMatchObject({
          connectionId: p.booking.connectionId,
          pendingNights: 2,
          jobs: [{ name: "flush", dueAt: FLUSH_DUE, attempts: 3 }],
          circuit: { state: "closed", consecutiveFailures: 2, opens: 1 },
        });
        // And it works on them: a flush pushes the kept nights and clears them.
        const flushed = await instance.flushNow();
        expect(flushed.pendingNights).toBe(0);
        expect(flushed.lastError).toBeNull();
        await state.storage.deleteAlarm();
      });
    },
  );

  it("refuses tables a newer build migrated further, rather than run over them", async () => {
    await runInDurableObject(freshGate(), (_gate: ChannelGate, state) => {
      state.storage.sql.exec(
        `UPDATE meta SET value = '9' WHERE key = 'schema_version:pending_nights'`,
      );
      expect(() => new GateStorage(state.storage).migrate("pending_nights", [() => {}])).toThrow(
        /pending_nights is at version 9/,
      );
      // Back to this build's version, so the gate still opens when the file settles.
      state.storage.sql.exec(
        `UPDATE meta SET value = '1' WHERE key = 'schema_version:pending_nights'`,
      );
    });
  });
});
