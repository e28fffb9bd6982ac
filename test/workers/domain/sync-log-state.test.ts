import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  canTransition,
  isFinal,
  SYNC_STATUSES,
  SYNC_TRANSITIONS,
  type SyncState,
} from "../../../src/domain/sync-log-state";
import { insertSyncLogStatement, transitionSyncLog } from "../../../src/store/sync-log-transitions";
import { uniqueDigits } from "../../support/fixtures";

const state = fc.constantFrom(...SYNC_STATUSES);

async function newLog(opts: { eventId?: string; tenantId?: string } = {}): Promise<string> {
  const { id, statement } = insertSyncLogStatement(
    env.DB,
    {
      tenantId: opts.tenantId ?? "ten_state",
      connectionId: "con_state",
      eventId: opts.eventId ?? null,
      syncType: "booking_import",
      direction: "inbound",
      maxRetries: 5,
    },
    1_000,
  );
  await statement.run();
  return id;
}

async function read(id: string) {
  return env.DB.prepare(`SELECT * FROM sync_logs WHERE id = ?`).bind(id).first<{
    status: SyncState;
    retry_count: number;
    max_retries: number;
    triggered_at: number;
    started_at: number | null;
    finished_at: number | null;
    deadletter_at: number | null;
    duration_ms: number | null;
    error: string | null;
  }>();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("sync log transition table", () => {
  it("is the documented machine", () => {
    const edges = SYNC_STATUSES.flatMap((from) =>
      SYNC_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
    );
    expect(edges.sort()).toEqual(
      [
        "triggered→running",
        "running→success",
        "running→failed",
        "running→retrying",
        "running→deadlettered",
        "retrying→running",
        "retrying→deadlettered",
        "failed→deadlettered",
      ].sort(),
    );
    expect(SYNC_STATUSES.filter(isFinal).sort()).toEqual(["deadlettered", "success"]);
    // Nothing leads back to triggered; every state is reachable from it.
    expect(SYNC_STATUSES.some((s) => canTransition(s, "triggered"))).toBe(false);
  });

  it("no path of requested transitions reaches a state the table forbids (pure model)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.subarray([...SYNC_STATUSES]), state), { maxLength: 30 }),
        (requests) => {
          let current: SyncState = "triggered";
          for (const [from, to] of requests) {
            const legal = from.filter((f) => canTransition(f, to));
            const next: SyncState = legal.includes(current) ? to : current;
            if (next !== current) expect(SYNC_TRANSITIONS[current]).toContain(next);
            current = next;
          }
        },
      ),
    );
  });
});

describe("transitionSyncLog (compare-and-swap on D1)", () => {
  it("never takes an edge the table forbids, whatever is asked of it", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.subarray([...SYNC_STATUSES], { minLength: 1 }), state), {
          minLength: 1,
          maxLength: 8,
        }),
        async (requests) => {
          const id = await newLog();
          let expected: SyncState = "triggered";
          let t = 2_000;
          for (const [from, to] of requests) {
            const before = (await read(id))!.status;
            const applied = await transitionSyncLog(env.DB, { id }, from, to, {}, (t += 10));
            const after = (await read(id))!.status;
            const allowed = from.includes(before) && canTransition(before, to);
            expect(applied).toBe(allowed);
            expect(after).toBe(allowed ? to : before);
            if (after !== before) expect(canTransition(before, after)).toBe(true);
            expected = allowed ? to : expected;
          }
          expect((await read(id))!.status).toBe(expected);
        },
      ),
      { numRuns: 40 },
    );
    warn.mockRestore();
  });

  it("stamps started_at, finished_at, duration, deadletter_at and retry_count as it goes", async () => {
    const id = await newLog();
    expect(await read(id)).toMatchObject({
      status: "triggered",
      triggered_at: 1_000,
      started_at: null,
      retry_count: 0,
      max_retries: 5,
    });
    expect(await transitionSyncLog(env.DB, { id }, ["triggered"], "running", {}, 1_100)).toBe(true);
    expect(await read(id)).toMatchObject({ status: "running", started_at: 1_100 });
    expect(
      await transitionSyncLog(env.DB, { id }, ["running"], "retrying", { error: "503" }, 1_200),
    ).toBe(true);
    expect(await read(id)).toMatchObject({ status: "retrying", retry_count: 1, error: "503" });
    expect(await transitionSyncLog(env.DB, { id }, ["retrying"], "running", {}, 1_300)).toBe(true);
    expect(
      await transitionSyncLog(env.DB, { id }, ["running"], "retrying", { retryCount: 2 }, 1_400),
    ).toBe(true);
    expect((await read(id))!.retry_count).toBe(2);
    expect(await transitionSyncLog(env.DB, { id }, ["retrying"], "deadlettered", {}, 1_500)).toBe(
      true,
    );
    expect(await read(id)).toMatchObject({
      status: "deadlettered",
      started_at: 1_300,
      finished_at: 1_500,
      duration_ms: 200,
      deadletter_at: 1_500,
    });

    const ok = await newLog();
    await transitionSyncLog(env.DB, { id: ok }, ["triggered"], "running", {}, 2_000);
    expect(
      await transitionSyncLog(
        env.DB,
        { id: ok },
        ["running"],
        "success",
        { recordsProcessed: 3 },
        2_250,
      ),
    ).toBe(true);
    expect(await read(ok)).toMatchObject({
      status: "success",
      finished_at: 2_250,
      duration_ms: 250,
      deadletter_at: null,
    });
  });

  it("refuses and logs an illegal transition, reading the current state back", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const id = await newLog();
    await transitionSyncLog(env.DB, { id }, ["triggered"], "running", {}, 1_100);
    await transitionSyncLog(env.DB, { id }, ["running"], "success", {}, 1_200);

    // Allowed by the table from `running`, but the row is `success` now: the CAS refuses it.
    expect(await transitionSyncLog(env.DB, { id }, ["running"], "retrying", {}, 1_300)).toBe(false);
    // Not allowed by the table at all: refused without touching D1.
    expect(await transitionSyncLog(env.DB, { id }, ["success"], "running", {}, 1_400)).toBe(false);
    expect(await read(id)).toMatchObject({ status: "success", finished_at: 1_200, retry_count: 0 });

    const lines = warn.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        event: "sync_log.illegal_transition",
        id,
        to: "retrying",
        current: "success",
      }),
      expect.objectContaining({ event: "sync_log.illegal_transition", id, to: "running" }),
    ]);
  });

  it("two consumers racing on one running sync log: exactly one transition wins", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    for (let round = 0; round < 10; round++) {
      const id = await newLog();
      await transitionSyncLog(env.DB, { id }, ["triggered"], "running", {}, 1_100);
      const [toSuccess, toRetrying] = await Promise.all([
        transitionSyncLog(env.DB, { id }, ["running"], "success", { details: "a" }, 1_200),
        transitionSyncLog(env.DB, { id }, ["running"], "retrying", { error: "b" }, 1_200),
      ]);
      expect([toSuccess, toRetrying].filter(Boolean)).toHaveLength(1);
      const row = await read(id);
      expect(row!.status).toBe(toSuccess ? "success" : "retrying");
      // The loser left no trace: no retry counted on a success, no finish on a retry.
      if (toSuccess) expect(row).toMatchObject({ retry_count: 0, error: null });
      else expect(row).toMatchObject({ retry_count: 1, finished_at: null, error: "b" });
    }
  });

  it("addresses an event's open sync log by event id, scoped by tenant when given", async () => {
    const eventId = `airbnb:evt_${uniqueDigits(10)}`;
    const id = await newLog({ eventId, tenantId: "ten_a" });
    expect(
      await transitionSyncLog(
        env.DB,
        { eventId, tenantId: "ten_b" },
        ["triggered"],
        "running",
        {},
        1_100,
      ),
    ).toBe(false);
    expect((await read(id))!.status).toBe("triggered");
    expect(
      await transitionSyncLog(
        env.DB,
        { eventId, tenantId: "ten_a" },
        ["triggered"],
        "running",
        {},
        1_100,
      ),
    ).toBe(true);
    expect((await read(id))!.status).toBe("running");
  });
});
