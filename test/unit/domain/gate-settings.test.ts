import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PLATFORMS, type Platform } from "../../../src/store/schema/channels.schema";
import { DEFAULT_BREAKER } from "../../../src/domain/circuit-breaker";
import {
  DEFAULT_COALESCE,
  DEFAULT_RESERVE,
  flushDueAt,
  gateSettingsSchema,
  type GateSettingsInput,
} from "../../../src/domain/gate-settings";
import { PLATFORM_RATE_LIMITS, gateSettingsFor } from "../../../src/services/gate-settings";
import { EMPTY_LIMITER, waitMs, type RateLimit } from "../../../src/domain/rate-limiter";

/**
 * Per-connection gate settings and the coalescing deadline (src/domain/gate-settings.ts, with the
 * platform limits looked up in src/services/gate-settings.ts).
 */

const RUNS = { numRuns: 200 };

describe("gate settings: per-platform defaults", () => {
  it.each([
    ["airbnb", 10, 1_000],
    ["booking_com", 20, 60_000],
    ["expedia", 50, 1_000],
    ["fewo_direkt", 30, 1_000],
    ["google", 100, 1_000],
    ["beds24", 100, 300_000],
    ["ical", 60, 60_000],
  ] as const)("%s: %i calls per %i ms", (platform, capacity, windowMs) => {
    expect(PLATFORM_RATE_LIMITS[platform]).toEqual({ capacity, windowMs });
    expect(gateSettingsFor(platform, null)).toEqual({
      rateLimit: { capacity, windowMs, reserve: 0.1 },
      breaker: DEFAULT_BREAKER,
      coalesce: { quietMs: 200, maxDelayMs: 1_000 },
    });
  });

  it("has a limit for every platform, and the documented defaults", () => {
    expect(Object.keys(PLATFORM_RATE_LIMITS).sort()).toEqual([...PLATFORMS].sort());
    expect(DEFAULT_RESERVE).toBe(0.1);
    expect(DEFAULT_COALESCE).toEqual({ quietMs: 200, maxDelayMs: 1_000 });
    expect(DEFAULT_BREAKER).toEqual({
      failureThreshold: 5,
      openMs: 60_000,
      successThreshold: 2,
      probeTimeoutMs: 30_000,
    });
  });

  it("takes the engine's coalescing defaults when the connection sets none", () => {
    const engine = { quietMs: 0, maxDelayMs: 0 };
    expect(gateSettingsFor("airbnb", undefined, engine).coalesce).toEqual(engine);
    expect(gateSettingsFor("airbnb", "", { quietMs: 300, maxDelayMs: 2_000 }).coalesce).toEqual({
      quietMs: 300,
      maxDelayMs: 2_000,
    });
  });
});

describe("gate settings: stored overrides", () => {
  it("applies every override, converting seconds to ms", () => {
    const stored = JSON.stringify({
      rate_limit: { capacity: 5, window_seconds: 2, reserve: 0.2 },
      circuit: { failure_threshold: 3, open_seconds: 30, success_threshold: 1 },
      coalesce: { quiet_ms: 50, max_delay_ms: 400 },
    });
    expect(gateSettingsFor("booking_com", stored)).toEqual({
      rateLimit: { capacity: 5, windowMs: 2_000, reserve: 0.2 },
      breaker: { failureThreshold: 3, openMs: 30_000, successThreshold: 1, probeTimeoutMs: 30_000 },
      coalesce: { quietMs: 50, maxDelayMs: 400 },
    });
  });

  it("keeps the defaults for what an override leaves out", () => {
    expect(
      gateSettingsFor(
        "beds24",
        JSON.stringify({ rate_limit: { capacity: 50, window_seconds: 60 } }),
      ),
    ).toMatchObject({
      rateLimit: { capacity: 50, windowMs: 60_000, reserve: 0.1 },
      breaker: DEFAULT_BREAKER,
      coalesce: DEFAULT_COALESCE,
    });
    expect(gateSettingsFor("airbnb", JSON.stringify({ circuit: { open_seconds: 0.5 } }))).toEqual({
      rateLimit: { capacity: 10, windowMs: 1_000, reserve: 0.1 },
      breaker: { ...DEFAULT_BREAKER, openMs: 500 },
      coalesce: DEFAULT_COALESCE,
    });
    expect(
      gateSettingsFor("airbnb", JSON.stringify({ coalesce: { quiet_ms: 0 } })).coalesce,
    ).toEqual({ quietMs: 0, maxDelayMs: 1_000 });
    // A reserve of 0 is an override, not a missing value.
    expect(
      gateSettingsFor(
        "google",
        JSON.stringify({ rate_limit: { capacity: 1, window_seconds: 1, reserve: 0 } }),
      ).rateLimit,
    ).toEqual({ capacity: 1, windowMs: 1_000, reserve: 0 });
  });

  it("never lets the coalescing deadline come before the quiet time", () => {
    expect(
      gateSettingsFor("airbnb", JSON.stringify({ coalesce: { quiet_ms: 5_000 } })).coalesce,
    ).toEqual({ quietMs: 5_000, maxDelayMs: 5_000 });
    expect(
      gateSettingsFor("airbnb", JSON.stringify({ coalesce: { quiet_ms: 300, max_delay_ms: 100 } }))
        .coalesce,
    ).toEqual({ quietMs: 300, maxDelayMs: 300 });
  });

  it.each([
    ["not JSON", "{"],
    ["JSON null", "null"],
    ["an array", "[]"],
    ["a string", '"fast"'],
    ["a number", "7"],
    ["an unknown key", '{"speed":1}'],
    ["an unknown nested key", '{"circuit":{"failure_threshold":3,"probe_seconds":5}}'],
    ["a rate limit without a window", '{"rate_limit":{"capacity":5}}'],
    ["a zero capacity", '{"rate_limit":{"capacity":0,"window_seconds":1}}'],
    ["a string capacity", '{"rate_limit":{"capacity":"5","window_seconds":1}}'],
    [
      "one bad section among good ones",
      '{"coalesce":{"quiet_ms":1},"circuit":{"open_seconds":-1}}',
    ],
  ])("falls back to the defaults on %s", (_what, stored) => {
    for (const platform of PLATFORMS) {
      expect(gateSettingsFor(platform, stored)).toEqual(gateSettingsFor(platform, null));
    }
  });
});

/** Values the schema accepts, boundaries included. */
const inputArb: fc.Arbitrary<GateSettingsInput> = fc.record(
  {
    rate_limit: fc.record(
      {
        capacity: fc.oneof(
          fc.constantFrom(1, 100_000),
          fc.integer({ min: 1, max: 100_000 }),
          fc.double({ min: 1, max: 100_000, noNaN: true }),
        ),
        window_seconds: fc.oneof(
          fc.constantFrom(0.001, 1, 86_400),
          fc.double({ min: 0.001, max: 86_400, noNaN: true }),
        ),
        reserve: fc.oneof(fc.constantFrom(0, 0.5), fc.double({ min: 0, max: 0.5, noNaN: true })),
      },
      { requiredKeys: ["capacity", "window_seconds"] },
    ),
    circuit: fc.record(
      {
        failure_threshold: fc.integer({ min: 1, max: 1_000 }),
        open_seconds: fc.oneof(
          fc.constant(86_400),
          fc.double({ min: 0.001, max: 86_400, noNaN: true }),
        ),
        success_threshold: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: [] },
    ),
    coalesce: fc.record(
      {
        quiet_ms: fc.integer({ min: 0, max: 60_000 }),
        max_delay_ms: fc.integer({ min: 0, max: 600_000 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
const platformArb = fc.constantFrom<Platform>(...PLATFORMS);

describe("gate settings: schema", () => {
  it("accepts every in-range value and gateSettingsFor applies it", () => {
    fc.assert(
      fc.property(platformArb, inputArb, (platform, input) => {
        expect(gateSettingsSchema.safeParse(input).success).toBe(true);
        const s = gateSettingsFor(platform, JSON.stringify(input));
        const base = PLATFORM_RATE_LIMITS[platform];
        expect(s.rateLimit).toEqual({
          capacity: input.rate_limit?.capacity ?? base.capacity,
          windowMs: input.rate_limit ? input.rate_limit.window_seconds * 1_000 : base.windowMs,
          reserve: input.rate_limit?.reserve ?? 0.1,
        });
        expect(s.breaker).toEqual({
          failureThreshold: input.circuit?.failure_threshold ?? 5,
          openMs:
            input.circuit?.open_seconds === undefined ? 60_000 : input.circuit.open_seconds * 1_000,
          successThreshold: input.circuit?.success_threshold ?? 2,
          probeTimeoutMs: 30_000,
        });
        const quietMs = input.coalesce?.quiet_ms ?? 200;
        expect(s.coalesce).toEqual({
          quietMs,
          maxDelayMs: Math.max(quietMs, input.coalesce?.max_delay_ms ?? 1_000),
        });
      }),
      RUNS,
    );
  });

  it("rejects unknown keys at every level", () => {
    for (const bad of [
      { extra: 1 },
      { rate_limit: { capacity: 1, window_seconds: 1, burst: 2 } },
      { circuit: { probe_timeout_seconds: 5 } },
      { coalesce: { quiet_seconds: 1 } },
      { rateLimit: { capacity: 1, window_seconds: 1 } },
    ]) {
      expect(gateSettingsSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it.each([
    ["rate_limit", "capacity", [0, -1, 1e-9, 0.5, 0.999, 100_000.5, 100_001], [1, 1.5, 100_000]],
    ["rate_limit", "window_seconds", [0, -1, 86_400.001, 86_401], [0.001, 1, 86_400]],
    ["rate_limit", "reserve", [-0.01, 0.5001, 1], [0, 0.25, 0.5]],
    ["circuit", "failure_threshold", [0, 1.5, 1_001, -1], [1, 1_000]],
    ["circuit", "open_seconds", [0, -1, 86_401], [0.001, 86_400]],
    ["circuit", "success_threshold", [0, 2.5, 101], [1, 100]],
    ["coalesce", "quiet_ms", [-1, 0.5, 60_001], [0, 60_000]],
    ["coalesce", "max_delay_ms", [-1, 1.5, 600_001], [0, 600_000]],
  ] as const)(
    "%s.%s: rejects out-of-range values, accepts the bounds",
    (section, key, bad, good) => {
      const base = section === "rate_limit" ? { capacity: 1, window_seconds: 1 } : {};
      for (const value of [...bad, "1", null, Number.NaN, Number.POSITIVE_INFINITY]) {
        const input = { [section]: { ...base, [key]: value } };
        expect(gateSettingsSchema.safeParse(input).success, `${key}=${value}`).toBe(false);
      }
      for (const value of good) {
        const input = { [section]: { ...base, [key]: value } };
        expect(gateSettingsSchema.safeParse(input).success, `${key}=${value}`).toBe(true);
      }
    },
  );
});

describe("gate settings: every accepted limit lets a call through", () => {
  /** A client that keeps asking: does a cost-1 call (the gate's) ever leave an empty limiter? */
  function leavesWithin(limit: RateLimit, windows: number): boolean {
    for (const priority of ["inbound", "outbound"] as const) {
      let t = 0;
      for (let i = 0; i <= windows && waitMs(EMPTY_LIMITER, limit, 1, t, priority) > 0; i++)
        t += waitMs(EMPTY_LIMITER, limit, 1, t, priority);
      if (waitMs(EMPTY_LIMITER, limit, 1, t, priority) > 0) return false;
    }
    return true;
  }

  it("for every capacity the schema accepts, inbound and outbound", () => {
    fc.assert(
      fc.property(platformArb, inputArb, (platform, input) => {
        expect(leavesWithin(gateSettingsFor(platform, JSON.stringify(input)).rateLimit, 3)).toBe(
          true,
        );
      }),
      RUNS,
    );
  });

  // The gate spends at least 1 per call: a capacity below one call would never let one leave.
  it("refuses capacities below one call, naming the field", () => {
    const parsed = gateSettingsSchema.safeParse({
      rate_limit: { capacity: 0.5, window_seconds: 1 },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["rate_limit", "capacity"]);
  });
});

describe("gate settings: flushDueAt", () => {
  const caseArb = fc
    .record({
      quietMs: fc.oneof(fc.constantFrom(0, 1, 200), fc.integer({ min: 0, max: 60_000 })),
      maxDelayMs: fc.oneof(fc.constantFrom(0, 1, 1_000), fc.integer({ min: 0, max: 600_000 })),
      pendingSince: fc.integer({ min: 0, max: 1_000_000 }),
      sinceFirst: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 700_000 })),
      notBefore: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000 })),
    })
    .map(({ quietMs, maxDelayMs, pendingSince, sinceFirst, notBefore }) => ({
      c: { quietMs, maxDelayMs },
      t: { pendingSince, lastMarkAt: pendingSince + sinceFirst, notBefore },
    }));

  it("is never before notBefore", () => {
    fc.assert(
      fc.property(caseArb, ({ c, t }) => {
        expect(flushDueAt(c, t)).toBeGreaterThanOrEqual(t.notBefore);
      }),
      RUNS,
    );
  });

  it("is never after max(pendingSince + maxDelayMs, notBefore)", () => {
    fc.assert(
      fc.property(caseArb, ({ c, t }) => {
        expect(flushDueAt(c, t)).toBeLessThanOrEqual(
          Math.max(t.pendingSince + c.maxDelayMs, t.notBefore),
        );
      }),
      RUNS,
    );
  });

  it("is never before min(lastMarkAt + quietMs, pendingSince + maxDelayMs)", () => {
    fc.assert(
      fc.property(caseArb, ({ c, t }) => {
        expect(flushDueAt(c, t)).toBeGreaterThanOrEqual(
          Math.min(t.lastMarkAt + c.quietMs, t.pendingSince + c.maxDelayMs),
        );
      }),
      RUNS,
    );
  });

  it("is one of its candidate moments (it never waits for nothing)", () => {
    fc.assert(
      fc.property(caseArb, ({ c, t }) => {
        expect([t.notBefore, t.lastMarkAt + c.quietMs, t.pendingSince + c.maxDelayMs]).toContain(
          flushDueAt(c, t),
        );
      }),
      RUNS,
    );
  });

  it.each([
    ["a quiet burst flushes quietMs after its last mark", 0, 250, 0, 450],
    ["marks that never stop flush at the latest maxDelayMs after the first", 0, 900, 0, 1_000],
    ["exactly at the quiet deadline", 100, 800, 0, 1_000],
    ["a rate-limit wait pushes it later", 0, 250, 5_000, 5_000],
    ["a wait already over changes nothing", 1_000, 1_000, 900, 1_200],
  ])("%s", (_what, pendingSince, lastMarkAt, notBefore, due) => {
    expect(flushDueAt(DEFAULT_COALESCE, { pendingSince, lastMarkAt, notBefore })).toBe(due);
  });
});
