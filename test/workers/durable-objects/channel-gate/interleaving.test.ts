import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import type { NightAspect } from "../../../../src/platforms/contract";
import { interleavedD1 } from "../../../support/interleave";
import {
  addDaysUtc,
  seedPortfolio,
  setGateSettings,
  type Portfolio,
} from "../../../support/fixtures";

/**
 * No stranded marks. A Durable Object's input gate is open while it awaits D1, so a markDirty can
 * land at any await of a flush; it sees the flush running and leaves scheduling to it. Whatever the
 * flush then finds (nothing to push, a paused connection, no adapter), pending nights end with a
 * due flush job and the alarm set, unless the connection is blocked and nothing was marked while
 * the flush ran (a blocked connection must not spin; reactivating it flushes). The D1 call the
 * mark lands before may also fail: the error path keeps the same promise.
 */

type ConnectionState =
  "active" | "paused" | "expired" | "availability off" | "inbound only" | "no adapter";

const STATES: Record<ConnectionState, string> = {
  active: "status = 'active'",
  paused: "status = 'paused'",
  expired: "status = 'expired'",
  "availability off": "sync_availability = 0",
  "inbound only": "sync_direction = 'inbound_only'",
  "no adapter": "platform = 'expedia'",
};

const night = fc.record({
  day: fc.integer({ min: 1, max: 60 }),
  aspect: fc.constantFrom<NightAspect>("availability", "price"),
});

const scenario = fc.record({
  state: fc.constantFrom(...(Object.keys(STATES) as ConnectionState[])),
  before: fc.array(night, { maxLength: 3 }),
  // The D1 call of the flush the mark lands before (past the last one: no mark during it).
  // A flush with nothing to push makes two or three D1 calls; one that pushes, a dozen.
  k: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 })),
  during: night,
  // That D1 call then fails (D1 unavailable): the flush's error path.
  fail: fc.boolean(),
  via: fc.constantFrom("flushNow", "alarm"),
});

function mark(p: Portfolio, n: { day: number; aspect: NightAspect }) {
  return {
    tenantId: p.tenantId,
    connectionId: p.booking.connectionId,
    roomTypeId: p.roomTypeId,
    ranges: [{ start: addDaysUtc(n.day), end: addDaysUtc(n.day) }],
    aspects: [n.aspect],
    causeKey: `interleave-${n.day}`,
    changedAt: Date.now(),
  };
}

describe("ChannelGate: a mark during a flush is never stranded", () => {
  it(
    "pending nights ⇒ a due flush job and the alarm, for a mark at any await of the flush (property)",
    { timeout: 120_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const p = await seedPortfolio();
          // Long coalescing: no alarm fires by itself while the test drives the flush.
          await setGateSettings(p.booking.connectionId, {
            coalesce: { quiet_ms: 60_000, max_delay_ms: 60_000 },
          });
          const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
          // Bound to its connection, nothing pending: a night long past is not kept.
          await gate.markDirty(mark(p, { day: -30, aspect: "availability" }));
          for (const n of s.before) await gate.markDirty(mark(p, n));
          await env.DB.prepare(`UPDATE channel_connections SET ${STATES[s.state]} WHERE id = ?`)
            .bind(p.booking.connectionId)
            .run();

          const { fired, alarm, status } = await runInDurableObject(
            gate,
            async (instance: ChannelGate, state) => {
              const d1 = interleavedD1(
                env.DB,
                s.k,
                async () => void (await instance.markDirty(mark(p, s.during))),
                { fail: s.fail },
              );
              instance.d1 = d1.db;
              try {
                if (s.via === "flushNow") await instance.flushNow().catch(() => null);
                else {
                  // The alarm, once the coalescing window has passed.
                  const at = Date.now() + 120_000;
                  instance.clock = () => at;
                  await instance.alarm();
                }
              } finally {
                instance.d1 = null;
              }
              const result = {
                fired: d1.fired(),
                alarm: await state.storage.getAlarm(),
                status: await instance.status(),
              };
              await state.storage.deleteAlarm();
              return result;
            },
          );

          const blocked = s.state !== "active";
          if (status.pendingNights > 0 && !(blocked && !fired)) {
            expect(status.jobs.map((j) => j.name)).toContain("flush");
            expect(alarm).not.toBeNull();
            expect(alarm).toBe(Math.min(...status.jobs.map((j) => j.dueAt)));
          }
          if (blocked && fired) {
            expect(status.pendingNights).toBeGreaterThan(0);
            // That job finds the connection still blocked and nothing new: it ends, no spin.
            const again = await gate.flushNow();
            expect(again.jobs).toEqual([]);
            expect(again.pendingNights).toBe(status.pendingNights);
          }
        }),
        { numRuns: 100 },
      );
    },
  );
});
