import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLOSED_BREAKER,
  DEFAULT_BREAKER,
  onFailure,
  onNeutral,
  onSuccess,
  permit,
  type Breaker,
  type BreakerConfig,
  type CircuitState,
} from "../../../src/domain/circuit-breaker";

/** Properties of the ChannelGate's circuit breaker (src/domain/circuit-breaker.ts). */

type Step =
  | {
      do: "permit";
      expect: { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };
    }
  | { do: "success" | "failure" | "neutral"; state: CircuitState }
  | { do: "advance"; ms: number };

/** Run a table of steps from a closed breaker; each step says what it expects. */
function runTable(cfg: BreakerConfig, steps: readonly Step[]): Breaker {
  let b = CLOSED_BREAKER;
  let now = 0;
  steps.forEach((step, i) => {
    const where = `step ${i} (${step.do}) at t=${now}`;
    switch (step.do) {
      case "advance":
        now += step.ms;
        return;
      case "permit": {
        const p = permit(b, cfg, now);
        if (p.allowed) expect({ allowed: true, probe: p.probe }, where).toEqual(step.expect);
        else expect({ allowed: false, retryInMs: p.retryInMs }, where).toEqual(step.expect);
        b = p.breaker;
        return;
      }
      case "success":
        b = onSuccess(b, cfg, now);
        break;
      case "failure":
        b = onFailure(b, cfg, now);
        break;
      case "neutral":
        b = onNeutral(b);
        break;
    }
    expect(b.state, where).toBe(step.state);
  });
  return b;
}

const ok = { allowed: true, probe: false } as const;
const probe = { allowed: true, probe: true } as const;
const refused = (retryInMs: number) => ({ allowed: false, retryInMs }) as const;

describe("circuit breaker: the full cycle (table)", () => {
  it("CLOSED →5 failures→ OPEN →60 s→ HALF_OPEN (one probe) →2 successes→ CLOSED", () => {
    expect(DEFAULT_BREAKER).toMatchObject({
      failureThreshold: 5,
      openMs: 60_000,
      successThreshold: 2,
    });
    const b = runTable(DEFAULT_BREAKER, [
      { do: "permit", expect: ok },
      ...Array.from({ length: 4 }, () => ({ do: "failure", state: "closed" }) as const),
      // A success in between starts the count again.
      { do: "success", state: "closed" },
      ...Array.from({ length: 4 }, () => ({ do: "failure", state: "closed" }) as const),
      // Neither does a neutral outcome (it says nothing about the platform).
      { do: "neutral", state: "closed" },
      { do: "permit", expect: ok },
      { do: "advance", ms: 1_000 },
      { do: "failure", state: "open" },
      { do: "permit", expect: refused(60_000) },
      { do: "advance", ms: 59_999 },
      { do: "permit", expect: refused(1) },
      // Late answers of calls that left before the circuit opened change nothing.
      { do: "success", state: "open" },
      { do: "failure", state: "open" },
      { do: "advance", ms: 1 },
      { do: "permit", expect: probe },
      // One probe at a time.
      { do: "permit", expect: refused(30_000) },
      { do: "advance", ms: 500 },
      { do: "permit", expect: refused(29_500) },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "permit", expect: refused(30_000) },
      { do: "success", state: "closed" },
      { do: "permit", expect: ok },
      { do: "permit", expect: ok },
    ]);
    expect(b).toMatchObject({
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      openedAt: null,
      probeUntil: null,
      opens: 1,
      changedAt: 61_500,
    });
  });

  it("HALF_OPEN → OPEN on a failing probe, for another full open time", () => {
    const b = runTable(DEFAULT_BREAKER, [
      ...Array.from({ length: 5 }, () => ({ do: "failure", state: "closed" }) as const).map(
        (s, i) => (i === 4 ? { ...s, state: "open" as const } : s),
      ),
      { do: "advance", ms: 60_000 },
      { do: "permit", expect: probe },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "advance", ms: 10 },
      { do: "failure", state: "open" },
      { do: "permit", expect: refused(60_000) },
      { do: "advance", ms: 60_000 },
      { do: "permit", expect: probe },
      // The success before the reopening does not count towards closing.
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "closed" },
    ]);
    expect(b.opens).toBe(2);
  });

  it("takes its thresholds from the config", () => {
    const cfg: BreakerConfig = {
      failureThreshold: 2,
      openMs: 1_000,
      successThreshold: 3,
      probeTimeoutMs: 500,
    };
    runTable(cfg, [
      { do: "failure", state: "closed" },
      { do: "failure", state: "open" },
      { do: "advance", ms: 999 },
      { do: "permit", expect: refused(1) },
      { do: "advance", ms: 1 },
      { do: "permit", expect: probe },
      { do: "permit", expect: refused(500) },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "closed" },
      { do: "failure", state: "closed" },
      { do: "failure", state: "open" },
    ]);
    runTable({ ...cfg, failureThreshold: 1, successThreshold: 1 }, [
      { do: "failure", state: "open" },
      { do: "advance", ms: 1_000 },
      { do: "permit", expect: probe },
      { do: "success", state: "closed" },
    ]);
  });

  it("a probe that never reports frees its slot after probeTimeoutMs", () => {
    runTable(DEFAULT_BREAKER, [
      ...Array.from({ length: 5 }, (_, i) => ({
        do: "failure" as const,
        state: i === 4 ? ("open" as const) : ("closed" as const),
      })),
      { do: "advance", ms: 60_000 },
      { do: "permit", expect: probe },
      { do: "advance", ms: 29_999 },
      { do: "permit", expect: refused(1) },
      { do: "advance", ms: 1 },
      { do: "permit", expect: probe },
      { do: "permit", expect: refused(30_000) },
      { do: "advance", ms: 30_000 },
      { do: "permit", expect: probe },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "closed" },
    ]);
  });

  it("onNeutral frees the probe slot without counting as a success", () => {
    const cfg = { ...DEFAULT_BREAKER, failureThreshold: 1 };
    runTable(cfg, [
      { do: "failure", state: "open" },
      { do: "advance", ms: 60_000 },
      { do: "permit", expect: probe },
      { do: "neutral", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "neutral", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "neutral", state: "half_open" },
      { do: "permit", expect: probe },
      { do: "success", state: "closed" },
    ]);
    // Outside HALF_OPEN a neutral outcome changes nothing at all.
    const open = onFailure(CLOSED_BREAKER, cfg, 5);
    expect(onNeutral(open)).toEqual(open);
    expect(onNeutral(CLOSED_BREAKER)).toEqual(CLOSED_BREAKER);
  });
});

type Action =
  | { kind: "permit" }
  | { kind: "success" }
  | { kind: "failure" }
  | { kind: "neutral" }
  | { kind: "advance"; base: "none" | "open" | "probe"; delta: number };

const cfgArb: fc.Arbitrary<BreakerConfig> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 6 }),
  openMs: fc.oneof(fc.constant(60_000), fc.integer({ min: 1, max: 100_000 })),
  successThreshold: fc.integer({ min: 1, max: 4 }),
  probeTimeoutMs: fc.oneof(fc.constant(30_000), fc.integer({ min: 1, max: 50_000 })),
});

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "permit" as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: "success" as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: "failure" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "neutral" as const }) },
  {
    weight: 3,
    // Jumps to the interesting edges (open time, probe timeout, one ms either side) or anywhere.
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      base: fc.constantFrom("none" as const, "open" as const, "probe" as const),
      delta: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: 0, max: 5_000 })),
    }),
  },
);

/** The test's own account of what happened, kept from the actions alone. */
interface Model {
  /** When the outstanding probe was permitted: a probe permit not yet followed by a report. */
  probeAt: number | null;
  /** Failures reported while CLOSED since the last success there (or since it closed). */
  closedFailures: number;
  /** Successes reported since the breaker last went HALF_OPEN. */
  halfOpenSuccesses: number;
  opens: number;
}

describe("circuit breaker: random sequences of actions", () => {
  it("keeps its promises whatever happens", () => {
    fc.assert(
      fc.property(cfgArb, fc.array(actionArb, { maxLength: 80 }), (cfg, actions) => {
        let b = CLOSED_BREAKER;
        let now = 0;
        const m: Model = { probeAt: null, closedFailures: 0, halfOpenSuccesses: 0, opens: 0 };
        const probeOut = () => m.probeAt !== null && now < m.probeAt + cfg.probeTimeoutMs;

        for (const a of actions) {
          const before = b;
          switch (a.kind) {
            case "advance": {
              const base =
                a.base === "open" ? cfg.openMs : a.base === "probe" ? cfg.probeTimeoutMs : 0;
              now += Math.max(0, base + a.delta);
              continue;
            }
            case "permit": {
              const p = permit(b, cfg, now);
              if (before.state === "closed") {
                expect(p).toMatchObject({ allowed: true, probe: false });
              } else if (before.state === "open") {
                const reopenAt = before.openedAt! + cfg.openMs;
                // No call while OPEN before openedAt + openMs; then exactly one probe.
                if (now < reopenAt)
                  expect(p).toMatchObject({ allowed: false, retryInMs: reopenAt - now });
                else expect(p).toMatchObject({ allowed: true, probe: true });
              } else {
                // HALF_OPEN: a probe only when none is out (or the last one timed out).
                if (probeOut()) {
                  expect(p).toMatchObject({
                    allowed: false,
                    retryInMs: m.probeAt! + cfg.probeTimeoutMs - now,
                  });
                } else {
                  expect(p).toMatchObject({ allowed: true, probe: true });
                }
              }
              if (p.allowed && p.probe) {
                expect(probeOut()).toBe(false);
                m.probeAt = now;
              }
              if (!p.allowed) expect(p.retryInMs).toBeGreaterThan(0);
              b = p.breaker;
              if (before.state === "open" && b.state === "half_open") m.halfOpenSuccesses = 0;
              break;
            }
            case "success":
              b = onSuccess(b, cfg, now);
              m.probeAt = null;
              if (before.state === "closed") m.closedFailures = 0;
              if (before.state === "half_open") m.halfOpenSuccesses += 1;
              break;
            case "failure":
              b = onFailure(b, cfg, now);
              m.probeAt = null;
              if (before.state === "closed") m.closedFailures += 1;
              break;
            case "neutral":
              b = onNeutral(b);
              m.probeAt = null;
              break;
          }

          // Every transition, and only these, may happen.
          const moved = `${before.state}->${b.state}`;
          switch (moved) {
            case "closed->open":
              expect(a.kind).toBe("failure");
              expect(m.closedFailures).toBe(cfg.failureThreshold);
              break;
            case "half_open->open":
              expect(a.kind).toBe("failure");
              break;
            case "open->half_open":
              expect(a.kind).toBe("permit");
              expect(now).toBeGreaterThanOrEqual(before.openedAt! + cfg.openMs);
              break;
            case "half_open->closed":
              expect(a.kind).toBe("success");
              expect(m.halfOpenSuccesses).toBe(cfg.successThreshold);
              break;
            case "closed->closed":
              // Below the threshold a failure keeps it closed.
              expect(m.closedFailures).toBeLessThan(cfg.failureThreshold);
              break;
            case "half_open->half_open":
              expect(m.halfOpenSuccesses).toBeLessThan(cfg.successThreshold);
              break;
            case "open->open":
              break;
            default:
              throw new Error(`unexpected transition ${moved} on ${a.kind}`);
          }
          if (b.state === "open") {
            if (before.state !== "open") {
              m.opens += 1;
              expect(b.openedAt).toBe(now);
              m.closedFailures = 0;
            }
            expect(b.probeUntil).toBeNull();
          }
          if (b.state === "closed" && before.state !== "closed") m.closedFailures = 0;
          // Reports reaching an OPEN breaker (calls that left before it opened) change nothing.
          if (before.state === "open" && a.kind !== "permit") expect(b).toEqual(before);
          expect(b.opens).toBe(m.opens);
          expect(b.state === "half_open" || b.probeUntil === null).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
