import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runScheduled, SCHEDULES } from "../../../src/jobs/cron";
import { withLease } from "../../../src/jobs/leases";
import { RETENTION_LEASE, retentionCatchUp, runRetention } from "../../../src/jobs/retention";
import { uniqueDigits } from "../../support/fixtures";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const OLD = NOW - 31 * DAY;
const RECENT = NOW - 29 * DAY;

const u = () => uniqueDigits(12);

async function syncLog(status: string, at: number, eventId: string | null = null) {
  const id = `syn_${u()}`;
  const finished = ["success", "failed", "deadlettered"].includes(status) ? at + 1000 : null;
  await env.DB.prepare(
    `INSERT INTO sync_logs (id, tenant_id, connection_id, event_id, sync_type, direction, status,
       triggered_at, started_at, finished_at)
     VALUES (?, 'ten_ret', 'con_ret', ?, 'booking_import', 'inbound', ?, ?, ?, ?)`,
  )
    .bind(id, eventId, status, at, at, finished)
    .run();
  return id;
}

async function webhookLog(status: string, at: number, id = `airbnb:evt_${u()}`) {
  await env.DB.prepare(
    `INSERT INTO webhook_log (id, platform, event_id, tenant_id, payload, status, processed_at, received_at, created_at)
     VALUES (?, 'airbnb', ?, 'ten_ret', '{}', ?, ?, ?, ?)`,
  )
    .bind(id, id.slice(7), status, status === "pending" ? null : at + 500, at, at)
    .run();
  return id;
}

async function event(status: string, at: number, key = `airbnb:evt_${u()}`) {
  await env.DB.prepare(
    `INSERT INTO channel_events (id, tenant_id, platform, direction, event_type, idempotency_key, status,
       attempts, received_at, processed_at, updated_at)
     VALUES (?, 'ten_ret', 'airbnb', 'inbound', 'reservation.created', ?, ?, 1, ?, ?, ?)`,
  )
    .bind(`evt_${u()}`, key, status, at, at + 500, at + 500)
    .run();
  return key;
}

async function deadLetter(at: number, resolvedAt: number | null, key: string | null = null) {
  const id = `dlq_${u()}`;
  await env.DB.prepare(
    `INSERT INTO dead_letters (id, queue, message_id, tenant_id, idempotency_key, body, attempts, created_at,
       resolved_at, resolution)
     VALUES (?, 'inbound', ?, 'ten_ret', ?, '{}', 6, ?, ?, ?)`,
  )
    .bind(id, `msg-${u()}`, key, at, resolvedAt, resolvedAt === null ? null : "ignored")
    .run();
  return id;
}

const exists = async (table: string, column: string, id: string) =>
  (await env.DB.prepare(`SELECT 1 AS x FROM ${table} WHERE ${column} = ?`).bind(id).first()) !==
  null;

async function releaseRetentionLease() {
  await env.DB.prepare(`DELETE FROM job_leases WHERE name = ?`).bind(RETENTION_LEASE).run();
}

describe("retention", () => {
  it("deletes only what is old and finished or resolved, in bounded chunks", async () => {
    await releaseRetentionLease();
    // Old and settled: all of these go.
    const goneSync = [
      await syncLog("success", OLD),
      await syncLog("failed", OLD),
      await syncLog("deadlettered", OLD),
    ];
    const goneWebhooks = [await webhookLog("processed", OLD), await webhookLog("failed", OLD)];
    const goneEvents = [await event("done", OLD), await event("ignored", OLD)];
    const goneDead = [await deadLetter(OLD - DAY, OLD)];

    // Kept: recent, still open, or something an operator may still act on.
    const unresolvedKey = await event("failed", OLD);
    const keptSync = [
      await syncLog("success", RECENT),
      await syncLog("running", OLD),
      await syncLog("retrying", OLD),
      await syncLog("triggered", OLD),
      await syncLog("deadlettered", OLD, unresolvedKey),
    ];
    const unmappedKey = await event("unmapped", OLD);
    const keptWebhooks = [
      await webhookLog("processed", RECENT),
      await webhookLog("pending", OLD),
      // Its event is unmapped: the replay once mapped reads the payload from here.
      await webhookLog("processed", OLD, unmappedKey),
    ];
    const keptEvents = [
      await event("done", RECENT),
      await event("retrying", OLD),
      await event("processing", OLD),
      unresolvedKey,
      unmappedKey,
    ];
    const keptDead = [
      await deadLetter(OLD - 10 * DAY, null, unresolvedKey),
      await deadLetter(OLD - 10 * DAY, RECENT),
      await deadLetter(RECENT, null),
    ];

    const outcome = await runRetention(env, NOW, { chunk: 2 });
    expect(outcome.ran).toBe(true);
    if (!outcome.ran) return;
    expect(outcome.result).toMatchObject({
      cutoff: NOW - 30 * DAY,
      more: false,
      sync_logs: 3,
      webhook_log: 2,
      channel_events: 2,
      dead_letters: 1,
    });
    for (const id of goneSync) expect(await exists("sync_logs", "id", id), id).toBe(false);
    for (const id of keptSync) expect(await exists("sync_logs", "id", id), id).toBe(true);
    for (const id of goneWebhooks) expect(await exists("webhook_log", "id", id), id).toBe(false);
    for (const id of keptWebhooks) expect(await exists("webhook_log", "id", id), id).toBe(true);
    for (const k of goneEvents)
      expect(await exists("channel_events", "idempotency_key", k), k).toBe(false);
    for (const k of keptEvents)
      expect(await exists("channel_events", "idempotency_key", k), k).toBe(true);
    for (const id of goneDead) expect(await exists("dead_letters", "id", id), id).toBe(false);
    for (const id of keptDead) expect(await exists("dead_letters", "id", id), id).toBe(true);

    // Run again: nothing left to delete.
    const again = await runRetention(env, NOW, { chunk: 2 });
    expect(again.ran && again.result).toMatchObject({
      sync_logs: 0,
      webhook_log: 0,
      channel_events: 0,
      dead_letters: 0,
    });
    // The lease records the last run.
    const lease = await env.DB.prepare(`SELECT * FROM job_leases WHERE name = ?`)
      .bind(RETENTION_LEASE)
      .first<{ lease_until: number; last_run_at: number; last_result: string }>();
    expect(lease!.lease_until).toBe(0);
    expect(JSON.parse(lease!.last_result)).toMatchObject({ sync_logs: 0 });
  });

  it("stops after its chunk budget and says more remain; RETENTION_DAYS moves the cutoff", async () => {
    await releaseRetentionLease();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await syncLog("success", NOW - 100 * DAY));
    const limited = await runRetention({ ...env, RETENTION_DAYS: "200" } as Env, NOW, {
      chunk: 2,
    });
    expect(limited.ran && limited.result.sync_logs).toBe(0);

    const first = await runRetention(env, NOW, { chunk: 2, maxChunks: 2 });
    expect(first.ran && first.result).toMatchObject({ sync_logs: 4, more: true });
    const second = await runRetention(env, NOW, { chunk: 2, maxChunks: 2 });
    expect(second.ran && second.result).toMatchObject({ sync_logs: 1, more: false });
    for (const id of ids) expect(await exists("sync_logs", "id", id)).toBe(false);
  });

  it("reports its backlog, and the minute catch-up runs again until none is left", async () => {
    await releaseRetentionLease();
    for (let i = 0; i < 5; i++) await syncLog("success", NOW - 100 * DAY);
    const first = await runRetention(env, NOW, { chunk: 2, maxChunks: 2 });
    expect(first.ran && first.result).toMatchObject({
      sync_logs: 4,
      more: true,
      backlog: { sync_logs: 1, dead_letters: 0, channel_events: 0, webhook_log: 0 },
    });
    // The lease row carries the report, which the catch-up reads.
    const caught = await retentionCatchUp(env, NOW);
    expect(caught.ran && caught.result).toMatchObject({ sync_logs: 1, more: false });
    expect(await retentionCatchUp(env, NOW)).toEqual({ ran: false, backlog: false });
  });

  it("does nothing while another run holds the lease", async () => {
    await releaseRetentionLease();
    const old = await syncLog("success", OLD);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    // The first run holds the lease (as a long retention run would) until released.
    const first = withLease(env.DB, RETENTION_LEASE, "first-run", 60_000, async () => {
      entered();
      await held;
      return "first";
    });
    await inside;

    const second = await runRetention(env, NOW, { holder: "second-run" });
    expect(second).toEqual({ ran: false, heldBy: "first-run" });
    expect(await exists("sync_logs", "id", old)).toBe(true);

    release();
    expect(await first).toEqual({ ran: true, result: "first" });
    // Released: the next run goes ahead.
    const third = await runRetention(env, NOW, { holder: "third-run" });
    expect(third.ran).toBe(true);
    expect(await exists("sync_logs", "id", old)).toBe(false);
  });

  it("two overlapping runs: exactly one runs", async () => {
    await releaseRetentionLease();
    const outcomes = await Promise.all([
      runRetention(env, NOW, { holder: "a" }),
      runRetention(env, NOW, { holder: "b" }),
    ]);
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
  });

  it("takes over a lease whose holder died (expired), and releases it even when the job throws", async () => {
    await env.DB.prepare(
      `INSERT INTO job_leases (name, holder, lease_until) VALUES ('test-job', 'dead', ?)
       ON CONFLICT(name) DO UPDATE SET holder = 'dead', lease_until = excluded.lease_until`,
    )
      .bind(NOW - 1)
      .run();
    await expect(
      withLease(
        env.DB,
        "test-job",
        "alive",
        60_000,
        async () => {
          throw new Error("boom");
        },
        () => NOW,
      ),
    ).rejects.toThrow("boom");
    const row = await env.DB.prepare(`SELECT * FROM job_leases WHERE name = 'test-job'`).first<{
      holder: string;
      lease_until: number;
      last_result: string;
    }>();
    expect(row).toMatchObject({ holder: "alive", lease_until: 0, last_result: "error: boom" });
  });

  it("runs from the hourly cron schedule", async () => {
    await releaseRetentionLease();
    expect(SCHEDULES["17 * * * *"]).toEqual(["retention"]);
    const old = await syncLog("success", Date.now() - 40 * DAY);
    await runScheduled(
      createScheduledController({ cron: "17 * * * *", scheduledTime: Date.now() }),
      env,
    );
    expect(await exists("sync_logs", "id", old)).toBe(false);
  });
});
