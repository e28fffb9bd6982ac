import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EMPTY_LIMITER,
  available,
  limitHeaders,
  reserveOf,
  settle,
  urgentReserveOf,
  take,
  waitMs,
  IN_FLIGHT_MAX_MS,
  pacingMs,
  type LimiterState,
  type Priority,
  type RateLimit,
  type Spend,
} from "../../../src/domain/rate-limiter";

/**
 * Properties of the ChannelGate's rate limiter (src/domain/rate-limiter.ts). Times are integer
 * milliseconds; costs are compared with a tiny tolerance because fractional credits are summed.
 */

const EPS = 1e-9;
const RUNS = { numRuns: 200 };

/** Small capacities and round windows are where off-by-ones show, so they are favoured. */
const capacityArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) },
);
const windowArb = fc.oneof(
  fc.constantFrom(1, 2, 10, 1_000, 60_000, 300_000),
  fc.integer({ min: 1, max: 300_000 }),
);
const reserveArb = fc.oneof(
  fc.constant(0),
  fc.constant(0.1),
  fc.constant(0.5),
  fc.double({ min: 0, max: 0.5, noNaN: true }),
);
const limitArb: fc.Arbitrary<RateLimit> = fc.record({
  capacity: capacityArb,
  windowMs: windowArb,
  reserve: reserveArb,
});
const priorityArb = fc.constantFrom<Priority>("inbound", "outbound", "bulk");

/** A duration relative to the window: exact edges (0, W-1, W, W+1, 3W) and anything up to 3W. */
function relativeMs(windowMs: number, maxWindows = 3): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(0, 1, windowMs - 1, windowMs, windowMs + 1, maxWindows * windowMs),
    fc.integer({ min: 0, max: 1_000 }).map((p) => Math.floor((windowMs * maxWindows * p) / 1_000)),
  );
}

/**
 * Tokens a call of this priority can always count on: the capacity less the reserves above it
 * (inbound: none; outbound: the inbound reserve; bulk: that and the urgent reserve).
 */
function usable(limit: RateLimit, priority: Priority): number {
  return limit.capacity - heldBack(limit, priority, { inbound: 0, outbound: 0 });
}

/** Reserves held back from a priority, given what their own calls used of them in the window. */
function heldBack(
  limit: RateLimit,
  priority: Priority,
  used: { inbound: number; outbound: number },
): number {
  const inbound = Math.max(0, reserveOf(limit) - used.inbound);
  const urgent = Math.max(0, urgentReserveOf(limit) - used.outbound);
  return priority === "inbound" ? 0 : inbound + (priority === "bulk" ? urgent : 0);
}

interface Step {
  cost: number;
  idle: number;
  latency: number;
  priority: Priority;
}

interface Call {
  send: number;
  finishedAt: number;
  cost: number;
  priority: Priority;
  /** What the limiter said before the call left. */
  wait: number;
}

/**
 * A serial client: each step idles, asks waitMs, waits exactly that long, takes the tokens at its
 * send time, and settles when the answer comes back `latency` ms later.
 */
function runSerialClient(limit: RateLimit, steps: readonly Step[]): Call[] {
  let state: LimiterState = EMPTY_LIMITER;
  let now = 1_000_000;
  const calls: Call[] = [];
  steps.forEach((step, k) => {
    now += step.idle;
    const wait = waitMs(state, limit, step.cost, now, step.priority);
    const send = now + wait;
    const id = `call-${k}`;
    state = take(state, limit, { id, at: send, cost: step.cost, priority: step.priority }, send);
    const finishedAt = send + step.latency;
    state = settle(state, limit, id, { finishedAt, status: 200 });
    calls.push({ send, finishedAt, cost: step.cost, priority: step.priority, wait });
    now = finishedAt;
  });
  return calls;
}

/**
 * Credits the platform could count in one window together with call j: every earlier call may
 * have reached it as late as its answer, and call j as early as its send.
 */
function usedBefore(
  calls: readonly Call[],
  j: number,
  windowMs: number,
  priority?: Priority,
): number {
  let used = 0;
  for (let i = 0; i < j; i++) {
    if (priority && calls[i]!.priority !== priority) continue;
    if (calls[i]!.finishedAt > calls[j]!.send - windowMs) used += calls[i]!.cost;
  }
  return used;
}

function stepsArb(limit: RateLimit, costArb: fc.Arbitrary<number>): fc.Arbitrary<Step[]> {
  return fc.array(
    fc.record({
      cost: costArb,
      idle: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, relativeMs(limit.windowMs, 2)),
      latency: relativeMs(limit.windowMs, 3),
      priority: priorityArb,
    }),
    { minLength: 1, maxLength: 60 },
  );
}

const unitCostCase = limitArb.chain((limit) =>
  fc.tuple(fc.constant(limit), stepsArb(limit, fc.constant(1))),
);
const fractionalCostCase = limitArb.chain((limit) =>
  fc.tuple(
    fc.constant(limit),
    stepsArb(
      limit,
      fc.oneof(
        fc.constant(limit.capacity),
        fc.integer({ min: 1, max: 1_000 }).map((p) => (limit.capacity * p) / 1_000),
      ),
    ),
  ),
);

/**
 * A client with overlapping calls (the gate runs an inbound fetch while a push awaits its
 * answer): requests arrive at their own times, queue in order, and each leaves as soon as
 * waitMs says so, re-asking whenever an answer comes back.
 */
function runConcurrentClient(
  limit: RateLimit,
  requests: ReadonlyArray<{ after: number; latency: number; cost: number }>,
): Call[] {
  let state: LimiterState = EMPTY_LIMITER;
  let t = 1_000_000;
  const arrivals = requests.map((r) => ({ ...r, at: (t += r.after) }));
  t = 1_000_000;
  const queue: typeof arrivals = [];
  const inFlight: Array<{ id: string; finishedAt: number }> = [];
  const calls: Call[] = [];
  let next = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    for (const f of inFlight.filter((x) => x.finishedAt <= t)) {
      state = settle(state, limit, f.id, { finishedAt: f.finishedAt, status: 200 });
      inFlight.splice(inFlight.indexOf(f), 1);
    }
    while (next < arrivals.length && arrivals[next]!.at <= t) queue.push(arrivals[next++]!);
    let wake = Infinity;
    while (queue.length > 0) {
      const head = queue[0]!;
      const wait = waitMs(state, limit, head.cost, t, "outbound");
      if (wait > 0) {
        wake = t + wait;
        break;
      }
      queue.shift();
      const id = `c${calls.length}`;
      state = take(state, limit, { id, at: t, cost: head.cost }, t);
      inFlight.push({ id, finishedAt: t + head.latency });
      calls.push({
        send: t,
        finishedAt: t + head.latency,
        cost: head.cost,
        priority: "outbound",
        wait: t - head.at,
      });
    }
    if (next >= arrivals.length && queue.length === 0 && inFlight.length === 0) return calls;
    t = Math.min(
      wake,
      next < arrivals.length ? arrivals[next]!.at : Infinity,
      ...inFlight.map((f) => f.finishedAt),
    );
  }
  throw new Error("the concurrent client did not finish");
}

describe("rate limiter: safety with overlapping calls", () => {
  it("never more than the outbound share in any window the platform can count", () => {
    fc.assert(
      fc.property(
        limitArb.chain((limit) =>
          fc.tuple(
            fc.constant(limit),
            fc.array(
              fc.record({
                after: fc.oneof(
                  { weight: 3, arbitrary: fc.constant(0) },
                  relativeMs(limit.windowMs, 1),
                ),
                // Platform calls time out long before IN_FLIGHT_MAX_MS (the dead-gate cap).
                latency: relativeMs(limit.windowMs, 2).map((ms) => Math.min(ms, IN_FLIGHT_MAX_MS)),
                cost: fc.constant(1),
              }),
              { minLength: 1, maxLength: 40 },
            ),
          ),
        ),
        ([limit, requests]) => {
          fc.pre(usable(limit, "outbound") >= 1);
          const calls = runConcurrentClient(limit, requests);
          expect(calls).toHaveLength(requests.length);
          calls.forEach((call, j) => {
            // Every call sent earlier that had not answered a window before this one left.
            const used = usedBefore(calls, j, limit.windowMs);
            expect(used + call.cost).toBeLessThanOrEqual(usable(limit, "outbound") + EPS);
          });
        },
      ),
      RUNS,
    );
  });
});

describe("rate limiter: safety of a serial client", () => {
  function checkSafety(limit: RateLimit, steps: Step[]): void {
    const calls = runSerialClient(limit, steps);
    calls.forEach((call, j) => {
      const used = usedBefore(calls, j, limit.windowMs);
      // Never more than the capacity in any window as the platform could count it.
      expect(used + call.cost).toBeLessThanOrEqual(limit.capacity + EPS);
      if (call.cost <= usable(limit, call.priority) + EPS) {
        // A call that fits its priority's share never eats into what the reserves above it have
        // not used yet in that window (what they used is theirs: it is not held back twice).
        const share =
          limit.capacity -
          heldBack(limit, call.priority, {
            inbound: usedBefore(calls, j, limit.windowMs, "inbound"),
            outbound: usedBefore(calls, j, limit.windowMs, "outbound"),
          });
        expect(used + call.cost).toBeLessThanOrEqual(share + EPS);
      } else {
        // A call larger than its share is held a whole window and then goes alone.
        expect(call.wait).toBe(limit.windowMs);
        expect(used).toBe(0);
      }
    });
  }

  it("never lets more than `capacity` calls into any rolling window (cost 1)", () => {
    fc.assert(
      fc.property(unitCostCase, ([limit, steps]) => checkSafety(limit, steps)),
      RUNS,
    );
  });

  it("never lets more than `capacity` credits into any rolling window (fractional costs)", () => {
    fc.assert(
      fc.property(fractionalCostCase, ([limit, steps]) => checkSafety(limit, steps)),
      RUNS,
    );
  });

  it("a capacity-1 limit spaces calls a full window after the previous answer", () => {
    const limit = { capacity: 1, windowMs: 1_000, reserve: 0.1 };
    const calls = runSerialClient(limit, [
      { cost: 1, idle: 0, latency: 300, priority: "outbound" },
      { cost: 1, idle: 0, latency: 0, priority: "outbound" },
      { cost: 1, idle: 999, latency: 0, priority: "outbound" },
      { cost: 1, idle: 1_000, latency: 0, priority: "outbound" },
    ]);
    expect(calls.map((c) => c.send - 1_000_000)).toEqual([0, 1_300, 2_300, 3_300]);
  });
});

/** A limiter state as the gate could hold it: spends up to two windows back, maybe a quota. */
function stateArb(limit: RateLimit, now: number): fc.Arbitrary<LimiterState> {
  const spend = fc.record({
    back: relativeMs(limit.windowMs, 2),
    cost: fc.oneof(fc.constant(1), fc.double({ min: 0.1, max: 3, noNaN: true })),
    priority: fc.option(priorityArb, { nil: undefined }),
  });
  return fc
    .record({
      spends: fc.array(spend, { maxLength: 12 }),
      blocked: fc.option(relativeMs(limit.windowMs, 2), { nil: undefined }),
      quota: fc.option(
        fc.record({
          remaining: fc.oneof(
            fc.integer({ min: 0, max: 5 }),
            fc.double({ min: 0, max: 120, noNaN: true }),
          ),
          observedBack: relativeMs(limit.windowMs, 1),
          resetsIn: relativeMs(limit.windowMs, 1),
        }),
        { nil: undefined },
      ),
    })
    .map(({ spends, blocked, quota }) => ({
      spends: spends.map((s, i): Spend => ({
        id: `s${i}`,
        at: now - s.back,
        cost: s.cost,
        ...(s.priority ? { priority: s.priority } : {}),
      })),
      blockedUntil: blocked === undefined ? 0 : now + blocked - limit.windowMs,
      quota:
        quota === undefined
          ? null
          : {
              remaining: quota.remaining,
              observedAt: now - quota.observedBack,
              resetsAt: now + quota.resetsIn,
            },
    }));
}

const NOW = 50_000_000;
const stateCase = limitArb.chain((limit) =>
  fc.tuple(
    fc.constant(limit),
    stateArb(limit, NOW),
    priorityArb,
    fc.integer({ min: 0, max: 1_000 }),
  ),
);

/** Every moment at which, without new spends, the limiter's answer can change. */
function changeMoments(state: LimiterState, limit: RateLimit): number[] {
  return [
    ...state.spends.map((s) => s.at + limit.windowMs),
    ...(state.quota ? [state.quota.resetsAt] : []),
    state.blockedUntil,
  ];
}

describe("rate limiter: liveness and minimal waits", () => {
  it("waitMs is 0 exactly when the call fits (outside a Retry-After block)", () => {
    fc.assert(
      fc.property(stateCase, ([limit, state, priority, p]) => {
        const cost = (usable(limit, priority) * p) / 1_000;
        const now = Math.max(NOW, state.blockedUntil);
        const fits = available(state, limit, now, priority) >= cost;
        expect(waitMs(state, limit, cost, now, priority) === 0).toBe(fits);
      }),
      RUNS,
    );
  });

  it("after the returned wait the call fits, and one ms earlier it did not", () => {
    fc.assert(
      fc.property(stateCase, ([limit, state, priority, p]) => {
        // Only calls that can ever fit this priority's share (the rest: see the next test).
        const cost = Math.max(1e-3, (usable(limit, priority) * p) / 1_000);
        const wait = waitMs(state, limit, cost, NOW, priority);
        expect(wait).toBeGreaterThanOrEqual(0);
        if (NOW < state.blockedUntil) {
          // Retry-After: exactly until the block ends, whether or not tokens are back by then.
          expect(wait).toBe(state.blockedUntil - NOW);
          return;
        }
        expect(available(state, limit, NOW + wait, priority)).toBeGreaterThanOrEqual(cost);
        if (wait > 0) {
          expect(available(state, limit, NOW + wait - 1, priority)).toBeLessThan(cost);
          // No moment in between at which the answer could change lets it through earlier.
          for (const t of changeMoments(state, limit)) {
            if (t >= NOW && t < NOW + wait)
              expect(available(state, limit, t, priority)).toBeLessThan(cost);
          }
        }
      }),
      RUNS,
    );
  });

  it("a client that asks again after each wait leaves at the first moment it fits", () => {
    fc.assert(
      fc.property(stateCase, ([limit, state, priority, p]) => {
        const cost = Math.max(1e-3, (usable(limit, priority) * p) / 1_000);
        let t = NOW;
        for (let i = 0; i < 100; i++) {
          const w = waitMs(state, limit, cost, t, priority);
          if (w === 0) break;
          t += w;
        }
        expect(waitMs(state, limit, cost, t, priority)).toBe(0);
        expect(t).toBeGreaterThanOrEqual(state.blockedUntil);
        expect(available(state, limit, t, priority)).toBeGreaterThanOrEqual(cost);
        const earliest = Math.max(NOW, state.blockedUntil);
        if (t > earliest) expect(available(state, limit, t - 1, priority)).toBeLessThan(cost);
      }),
      RUNS,
    );
  });

  it("a call larger than its share is held one window at a time", () => {
    const limit = { capacity: 10, windowMs: 1_000, reserve: 0.1 };
    expect(reserveOf(limit)).toBe(1);
    expect(waitMs(EMPTY_LIMITER, limit, 9.5, 0, "outbound")).toBe(1_000);
    expect(waitMs(EMPTY_LIMITER, limit, 9.5, 0, "inbound")).toBe(0);
    expect(waitMs(EMPTY_LIMITER, limit, 11, 0, "inbound")).toBe(1_000);
  });

  it("a token comes back exactly one window after the call that spent it finished", () => {
    const limit = { capacity: 2, windowMs: 1_000, reserve: 0 };
    let s = take(EMPTY_LIMITER, limit, { id: "a", at: 0, cost: 1 }, 0);
    s = settle(s, limit, "a", { finishedAt: 400 });
    s = take(s, limit, { id: "b", at: 500, cost: 1 }, 500);
    s = settle(s, limit, "b", { finishedAt: 900 });
    // "a" returns at 1_400, "b" at 1_900, whenever they were sent.
    expect(waitMs(s, limit, 1, 900, "inbound")).toBe(500);
    expect(waitMs(s, limit, 1, 1_399, "inbound")).toBe(1);
    expect(available(s, limit, 1_399, "inbound")).toBe(0);
    expect(available(s, limit, 1_400, "inbound")).toBe(1);
    expect(waitMs(s, limit, 1, 1_400, "inbound")).toBe(0);
    expect(waitMs(s, limit, 2, 1_000, "inbound")).toBe(900);
    expect(available(s, limit, 1_900, "inbound")).toBe(2);
  });
});

describe("rate limiter: the inbound reserve", () => {
  it("reserveOf: at least one token once there is a reserve and room for it", () => {
    expect(reserveOf({ capacity: 1, windowMs: 1, reserve: 0.5 })).toBe(0);
    expect(reserveOf({ capacity: 2, windowMs: 1, reserve: 0.1 })).toBe(1);
    expect(reserveOf({ capacity: 10, windowMs: 1, reserve: 0.1 })).toBe(1);
    expect(reserveOf({ capacity: 20, windowMs: 1, reserve: 0.1 })).toBe(2);
    expect(reserveOf({ capacity: 100, windowMs: 1, reserve: 0.25 })).toBe(25);
    // Rounded down: the reserve never takes more than its share.
    expect(reserveOf({ capacity: 15, windowMs: 1, reserve: 0.1 })).toBe(1);
    expect(reserveOf({ capacity: 3, windowMs: 1, reserve: 0.5 })).toBe(1);
    expect(reserveOf({ capacity: 99, windowMs: 1, reserve: 0.1 })).toBe(9);
    expect(reserveOf({ capacity: 100, windowMs: 1, reserve: 0 })).toBe(0);
  });

  it("outbound calls alone never leave fewer than reserveOf(limit) tokens free", () => {
    const outboundOnly = limitArb.chain((limit) =>
      fc.tuple(
        fc.constant(limit),
        stepsArb(limit, fc.constant(1)).map((steps) =>
          steps.map((s) => ({ ...s, priority: "outbound" as const })),
        ),
      ),
    );
    fc.assert(
      fc.property(outboundOnly, ([limit, steps]) => {
        const calls = runSerialClient(limit, steps);
        calls.forEach((call, j) => {
          const used = usedBefore(calls, j, limit.windowMs) + call.cost;
          if (call.cost <= usable(limit, "outbound"))
            expect(limit.capacity - used).toBeGreaterThanOrEqual(reserveOf(limit));
        });
      }),
      RUNS,
    );
  });

  it("inbound calls may use the reserve, outbound ones may not", () => {
    fc.assert(
      fc.property(
        limitArb.filter((l) => reserveOf(l) > 0),
        (limit) => {
          // Spend everything outbound may, one answered call at a time, all in one instant.
          const call = (st: LimiterState, id: string) =>
            settle(take(st, limit, { id, at: 0, cost: 1 }, 0), limit, id, { finishedAt: 0 });
          let s = EMPTY_LIMITER;
          let n = 0;
          while (n <= limit.capacity && waitMs(s, limit, 1, 0, "outbound") === 0) {
            s = call(s, `o${n}`);
            n += 1;
          }
          expect(n).toBe(Math.floor(usable(limit, "outbound")));
          expect(available(s, limit, 0, "inbound") - available(s, limit, 0, "outbound")).toBe(
            reserveOf(limit),
          );
          expect(waitMs(s, limit, 1, 0, "outbound")).toBe(limit.windowMs);
          let m = 0;
          while (n + m <= limit.capacity && waitMs(s, limit, 1, 0, "inbound") === 0) {
            s = call(s, `i${m}`);
            m += 1;
          }
          expect(n + m).toBe(Math.floor(limit.capacity));
        },
      ),
      RUNS,
    );
  });
});

describe("rate limiter: the urgent reserve", () => {
  const BOOKING_COM = { capacity: 20, windowMs: 60_000, reserve: 0.1 };
  const spendAll = (limit: RateLimit, priority: Priority, from: LimiterState = EMPTY_LIMITER) => {
    let s = from;
    let n = 0;
    while (n <= limit.capacity && waitMs(s, limit, 1, 0, priority) === 0) {
      const id = `${priority}${n}`;
      s = settle(take(s, limit, { id, at: 0, cost: 1, priority }, 0), limit, id, {
        finishedAt: 0,
      });
      n += 1;
    }
    return { s, n };
  };

  it("urgentReserveOf: five calls on a long window, at most a quarter, none on a short one", () => {
    expect(urgentReserveOf(BOOKING_COM)).toBe(5);
    expect(urgentReserveOf({ capacity: 100, windowMs: 300_000, reserve: 0.1 })).toBe(5);
    expect(urgentReserveOf({ capacity: 4, windowMs: 60_000, reserve: 0.1 })).toBe(1);
    expect(urgentReserveOf({ capacity: 2, windowMs: 60_000, reserve: 0.1 })).toBe(0);
    expect(urgentReserveOf({ capacity: 10, windowMs: 1_000, reserve: 0.1 })).toBe(0);
  });

  it("after bulk spent all it may, a booking's push still leaves at once", () => {
    const bulk = spendAll(BOOKING_COM, "bulk");
    expect(bulk.n).toBe(13); // 20, less 2 for inbound calls and 5 for urgent pushes
    const urgent = spendAll(BOOKING_COM, "outbound", bulk.s);
    expect(urgent.n).toBe(5);
    expect(spendAll(BOOKING_COM, "inbound", urgent.s).n).toBe(2);
  });

  it("what a reserve's own calls used is not held back again from bulk", () => {
    // Two pulls and five urgent pushes in the window.
    const spend = (id: string, priority: Priority): Spend => ({ id, at: 0, cost: 1, priority });
    const urgent: LimiterState = {
      ...EMPTY_LIMITER,
      spends: [
        ...["i0", "i1"].map((id) => spend(id, "inbound")),
        ...["o0", "o1", "o2", "o3", "o4"].map((id) => spend(id, "outbound")),
      ],
    };
    // 20 − 7 used = 13, all bulk's: the reserves are spent by the calls they are for.
    expect(available(urgent, BOOKING_COM, 0, "bulk")).toBe(13);
    expect(available(urgent, BOOKING_COM, 0, "outbound")).toBe(13);
    expect(available(urgent, BOOKING_COM, 0, "inbound")).toBe(13);
    // Legacy spends without a priority count as bulk: they use no reserve.
    const legacy = { ...EMPTY_LIMITER, spends: [{ id: "x", at: 0, cost: 1 }] };
    expect(available(legacy, BOOKING_COM, 0, "bulk")).toBe(12);
  });

  it("bulk calls alone never leave fewer than both reserves free (property)", () => {
    const bulkOnly = limitArb.chain((limit) =>
      fc.tuple(
        fc.constant(limit),
        stepsArb(limit, fc.constant(1)).map((steps) =>
          steps.map((s) => ({ ...s, priority: "bulk" as const })),
        ),
      ),
    );
    fc.assert(
      fc.property(bulkOnly, ([limit, steps]) => {
        const calls = runSerialClient(limit, steps);
        calls.forEach((call, j) => {
          const used = usedBefore(calls, j, limit.windowMs) + call.cost;
          if (call.cost <= usable(limit, "bulk"))
            expect(limit.capacity - used).toBeGreaterThanOrEqual(
              reserveOf(limit) + urgentReserveOf(limit),
            );
        });
      }),
      RUNS,
    );
  });
});

describe("rate limiter: Retry-After and 429", () => {
  const blockCase = limitArb.chain((limit) =>
    fc.tuple(
      fc.constant(limit),
      stateArb(limit, NOW).map((s) => ({ ...s, blockedUntil: 0 })),
      fc.oneof(fc.constantFrom(0, 1, 60), fc.integer({ min: 0, max: 3_600 })),
      fc.integer({ min: 0, max: 1_000 }),
      priorityArb,
    ),
  );

  it("after Retry-After: s, no call leaves for s seconds", () => {
    fc.assert(
      fc.property(blockCase, ([limit, state, seconds, p, priority]) => {
        const s = settle(state, limit, "none", {
          finishedAt: NOW,
          status: 429,
          retryAfterSeconds: seconds,
        });
        const blockMs = seconds * 1_000;
        for (const elapsed of [0, Math.floor((blockMs * p) / 1_000), blockMs - 1]) {
          if (elapsed < 0 || elapsed >= blockMs) continue;
          expect(waitMs(s, limit, 1, NOW + elapsed, priority)).toBeGreaterThanOrEqual(
            blockMs - elapsed,
          );
        }
        // Once the block is over, only the tokens decide.
        const after = NOW + blockMs + (p % 7);
        expect(waitMs(s, limit, 1, after, priority)).toBe(
          waitMs({ ...s, blockedUntil: 0 }, limit, 1, after, priority),
        );
      }),
      RUNS,
    );
  });

  it("a 429 without Retry-After blocks a whole window; other statuses do not block", () => {
    fc.assert(
      fc.property(blockCase, ([limit, state, , p, priority]) => {
        const s = settle(state, limit, "none", { finishedAt: NOW, status: 429 });
        expect(s.blockedUntil).toBe(NOW + limit.windowMs);
        const elapsed = Math.floor(((limit.windowMs - 1) * p) / 1_000);
        expect(waitMs(s, limit, 1, NOW + elapsed, priority)).toBeGreaterThanOrEqual(
          limit.windowMs - elapsed,
        );
        expect(waitMs(s, limit, 1, NOW + limit.windowMs - 1, priority)).toBeGreaterThanOrEqual(1);
        for (const status of [200, 400, 500, 503]) {
          expect(settle(state, limit, "none", { finishedAt: NOW, status }).blockedUntil).toBe(0);
        }
      }),
      RUNS,
    );
  });

  it("a shorter Retry-After never shortens a longer block", () => {
    const limit = { capacity: 5, windowMs: 1_000, reserve: 0 };
    let s = settle(EMPTY_LIMITER, limit, "x", {
      finishedAt: 0,
      status: 429,
      retryAfterSeconds: 30,
    });
    s = settle(s, limit, "y", { finishedAt: 1_000, status: 429, retryAfterSeconds: 1 });
    s = settle(s, limit, "z", { finishedAt: 2_000, status: 429 });
    expect(s.blockedUntil).toBe(30_000);
    expect(waitMs(s, limit, 1, 29_999, "inbound")).toBe(1);
    expect(waitMs(s, limit, 1, 30_000, "inbound")).toBe(0);
  });
});

describe("rate limiter: quota headers (Beds24)", () => {
  it("limitHeaders reads fractional costs and lower-case names, ignores garbage", () => {
    expect(
      limitHeaders(
        new Headers({
          "x-request-cost": "1.5",
          "x-five-min-limit-remaining": "3",
          "x-five-min-limit-resets-in": "120",
        }),
      ),
    ).toEqual({ cost: 1.5, remaining: 3, resetsInSeconds: 120 });
    // Header names are case-insensitive; values may carry spaces.
    expect(
      limitHeaders(new Headers({ "X-Request-Cost": " 0.25 ", "X-Five-Min-Limit-Remaining": "0" })),
    ).toEqual({ cost: 0.25, remaining: 0 });
    expect(limitHeaders(new Headers())).toEqual({});
    for (const garbage of ["", " ", "abc", "-1", "NaN", "Infinity", "1.5 credits", "1,5"]) {
      expect(
        limitHeaders(
          new Headers({
            "x-request-cost": garbage,
            "x-five-min-limit-remaining": garbage,
            "x-five-min-limit-resets-in": garbage,
          }),
        ),
      ).toEqual({});
    }
  });

  it("x-request-cost replaces the estimated cost of that spend", () => {
    fc.assert(
      fc.property(
        limitArb,
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (limit, estimate, real) => {
          let s = take(EMPTY_LIMITER, limit, { id: "c", at: NOW, cost: estimate }, NOW);
          s = take(s, limit, { id: "other", at: NOW, cost: 1 }, NOW);
          s = settle(s, limit, "c", { finishedAt: NOW, cost: real });
          expect(s.spends.map((x) => x.cost)).toEqual([real, 1]);
          expect(available(s, limit, NOW, "inbound")).toBeCloseTo(limit.capacity - real - 1, 9);
        },
      ),
      RUNS,
    );
  });

  /** One call observes the quota; later calls (serial, some in the same ms) spend from it. */
  const quotaCase = limitArb.chain((limit) =>
    fc.tuple(
      fc.constant(limit),
      fc.oneof(fc.integer({ min: 0, max: 10 }), fc.double({ min: 0, max: 200, noNaN: true })),
      // Beds24 resets its five-minute window at most one window ahead.
      fc.integer({ min: 1, max: 1_000 }).map((p) => Math.floor((limit.windowMs * p) / 1_000)),
      fc.array(
        fc.record({
          cost: fc.oneof(fc.constant(1), fc.double({ min: 0.1, max: 2, noNaN: true })),
          idle: relativeMs(limit.windowMs, 1),
          latency: relativeMs(limit.windowMs, 1),
          probe: fc.integer({ min: 0, max: 1_000 }),
        }),
        { maxLength: 20 },
      ),
    ),
  );

  it("after remaining R, what is available never exceeds R minus what was spent since", () => {
    fc.assert(
      fc.property(quotaCase, ([limit, remaining, resetsInMs, later]) => {
        const t0 = NOW;
        let s = take(EMPTY_LIMITER, limit, { id: "q", at: t0 - 5, cost: 1 }, t0 - 5);
        s = settle(s, limit, "q", {
          finishedAt: t0,
          remaining,
          resetsInSeconds: resetsInMs / 1_000,
        });
        const resetsAt = t0 + resetsInMs;
        expect(s.quota === null).toBe(resetsInMs === 0);
        let now = t0;
        let spentSince = 0;
        const check = (t: number) => {
          if (t >= resetsAt) return;
          for (const priority of ["inbound", "outbound"] as const)
            expect(available(s, limit, t, priority)).toBeLessThanOrEqual(
              remaining - spentSince + EPS,
            );
        };
        check(now);
        later.forEach((c, k) => {
          now += Math.max(1, c.idle);
          if (now >= resetsAt) return;
          const id = `l${k}`;
          s = take(s, limit, { id, at: now, cost: c.cost }, now);
          spentSince += c.cost;
          check(now);
          now += Math.max(1, c.latency);
          s = settle(s, limit, id, { finishedAt: now });
          check(now);
          check(now + Math.floor((resetsInMs * c.probe) / 1_000));
        });
      }),
      RUNS,
    );
  });

  it("the quota stops capping at resetsAt", () => {
    fc.assert(
      fc.property(
        limitArb,
        fc.integer({ min: 1, max: 600 }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (limit, resetsIn, remaining) => {
          const s = settle(EMPTY_LIMITER, limit, "q", {
            finishedAt: NOW,
            remaining,
            resetsInSeconds: resetsIn,
          });
          const resetsAt = NOW + resetsIn * 1_000;
          expect(available(s, limit, resetsAt - 1, "inbound")).toBe(
            Math.min(limit.capacity, remaining),
          );
          expect(available(s, limit, resetsAt, "inbound")).toBe(limit.capacity);
          if (remaining < 1 && limit.capacity >= 1)
            expect(waitMs(s, limit, 1, NOW, "inbound")).toBe(resetsIn * 1_000);
        },
      ),
      RUNS,
    );
  });

  it("without resets-in, the quota lasts one window", () => {
    const limit = { capacity: 100, windowMs: 300_000, reserve: 0.1 };
    const headers = limitHeaders(new Headers({ "x-five-min-limit-remaining": "0" }));
    const s = settle(EMPTY_LIMITER, limit, "q", { finishedAt: 1_000, ...headers });
    expect(s.quota).toEqual({ remaining: 0, observedAt: 1_000, resetsAt: 301_000, spendId: "q" });
    expect(waitMs(s, limit, 1, 1_000, "inbound")).toBe(300_000);
    expect(waitMs(s, limit, 1, 301_000, "outbound")).toBe(0);
  });

  it("the Beds24 example: cost 1.5 and 3 credits left for 120 s", () => {
    const limit = { capacity: 100, windowMs: 300_000, reserve: 0.1 };
    let s = take(EMPTY_LIMITER, limit, { id: "a", at: 0, cost: 1 }, 0);
    s = settle(s, limit, "a", {
      finishedAt: 200,
      status: 200,
      ...limitHeaders(
        new Headers({
          "x-request-cost": "1.5",
          "x-five-min-limit-remaining": "3",
          "x-five-min-limit-resets-in": "120",
        }),
      ),
    });
    expect(s.spends).toEqual([{ id: "a", at: 200, cost: 1.5 }]);
    // The platform's word: 3 credits left, not 100 - 1.5 (and none for pushes, whose reserve is 10).
    expect(available(s, limit, 200, "inbound")).toBe(3);
    expect(waitMs(s, limit, 1, 200, "outbound")).toBe(120_000);
    s = take(s, limit, { id: "b", at: 250, cost: 2 }, 250);
    expect(available(s, limit, 250, "inbound")).toBe(1);
    expect(waitMs(s, limit, 2, 250, "inbound")).toBe(120_200 - 250);
  });
});

/** Once known gaps (first written as `it.fails`), now the behaviour the module's doc promises. */
describe("rate limiter: quotas longer than the window, same-millisecond calls, calls in flight", () => {
  it("a quota that resets later than one window keeps capping until it resets", () => {
    // 2 credits left for 300 s, our window is 60 s: two calls spend them.
    const limit = { capacity: 100, windowMs: 60_000, reserve: 0 };
    let s = settle(EMPTY_LIMITER, limit, "q", {
      finishedAt: 0,
      remaining: 2,
      resetsInSeconds: 300,
    });
    s = settle(take(s, limit, { id: "a", at: 10, cost: 1 }, 10), limit, "a", { finishedAt: 20 });
    s = settle(take(s, limit, { id: "b", at: 30, cost: 1 }, 30), limit, "b", { finishedAt: 40 });
    expect(available(s, limit, 50, "inbound")).toBe(0);
    // Actual: both spends age out of our window at 60_040 and the 2 credits count as free again.
    expect(available(s, limit, 60_040, "inbound")).toBeLessThanOrEqual(0);
  });

  it("a call taken in the millisecond the quota was observed counts against it", () => {
    const limit = { capacity: 100, windowMs: 60_000, reserve: 0 };
    let s = take(EMPTY_LIMITER, limit, { id: "q", at: 0, cost: 1 }, 0);
    s = settle(s, limit, "q", { finishedAt: 100, remaining: 1, resetsInSeconds: 60 });
    s = take(s, limit, { id: "next", at: 100, cost: 1 }, 100);
    // Actual: observedAt is finishedAt + 1, so "next" (at 100) is not counted and 1 is still free.
    expect(available(s, limit, 100, "inbound")).toBe(0);
  });

  it("an unanswered call keeps its token however long it is in flight", () => {
    // Overlapping calls (the gate can run an inbound fetch while a push awaits its answer).
    const limit = { capacity: 2, windowMs: 1_000, reserve: 0 };
    let s = take(EMPTY_LIMITER, limit, { id: "a", at: 0, cost: 1 }, 0);
    s = take(s, limit, { id: "b", at: 100, cost: 1 }, 100);
    s = settle(s, limit, "a", { finishedAt: 400 });
    // "b" has no answer yet at 1_100, so the platform may still count it together with "a" (at
    // 400) and a new call: 3 in 700 ms. Actual: b's token returned at 100 + 1_000.
    expect(waitMs(s, limit, 1, 1_100, "inbound")).toBeGreaterThan(0);
  });
});

describe("rate limiter: pacing a stream of pushes", () => {
  const call = (st: LimiterState, limit: RateLimit, id: string, at: number) =>
    settle(take(st, limit, { id, at, cost: 1 }, at), limit, id, { finishedAt: at });

  it("does not hold a lone change: nothing spent, nothing to spread", () => {
    const limit = { capacity: 20, windowMs: 60_000, reserve: 0.1 };
    expect(pacingMs(EMPTY_LIMITER, limit, 0, 2_000)).toBe(0);
  });

  it("spreads what is left until tokens return, capped: Booking.com after one call", () => {
    const limit = { capacity: 20, windowMs: 60_000, reserve: 0.1 };
    const s = call(EMPTY_LIMITER, limit, "a", 0);
    // 17 outbound tokens left, the first returns at 60 s: 3.5 s apart, capped at 2 s.
    expect(pacingMs(s, limit, 0, 2_000)).toBe(2_000);
    expect(pacingMs(s, limit, 0, 10_000)).toBeCloseTo(60_000 / 17, 6);
  });

  it("is 0 once the bucket is empty (waitMs rules then) and never above the cap", () => {
    fc.assert(
      fc.property(
        limitArb,
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 5_000 }),
        (limit, n, cap) => {
          let s = EMPTY_LIMITER;
          for (let i = 0; i < n; i++) s = call(s, limit, `c${i}`, i);
          const pace = pacingMs(s, limit, n, cap);
          expect(pace).toBeGreaterThanOrEqual(0);
          expect(pace).toBeLessThanOrEqual(cap);
          if (available(s, limit, n, "outbound") < 1) expect(pace).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it("a stream paced by it never runs the outbound share out before tokens return", () => {
    // Booking.com's 20/min, a push every time the gate allows it: 18 outbound tokens must last.
    const limit = { capacity: 20, windowMs: 60_000, reserve: 0.1 };
    let s = EMPTY_LIMITER;
    let t = 0;
    let calls = 0;
    while (t < 60_000) {
      expect(waitMs(s, limit, 1, t, "outbound")).toBe(0);
      s = call(s, limit, `c${calls++}`, t);
      const pace = pacingMs(s, limit, t, 60_000);
      if (pace === 0) break;
      t += pace;
    }
    // Every call could leave, and they spread over (nearly) the whole window, not its start.
    expect(calls).toBeGreaterThanOrEqual(17);
    expect(t).toBeGreaterThanOrEqual(57_000);
  });
});
