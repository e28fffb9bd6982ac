import { describe, expect, it } from "vitest";
import {
  coalesceWithin,
  heldAfter,
  nightAction,
  pushableLeft,
  pushBudget,
  pushedValue,
  UNMAPPED,
  urgentPushable,
} from "../../../../durable-objects/channel-gate/flush-plan";

/**
 * The pure half of the gate's flush planning (durable-objects/channel-gate/flush-plan.ts): what a
 * night needs, how many calls may be planned, which groups stay held and why, what is left.
 */

describe("a pending night", () => {
  const night = { date: "2027-03-01", available: 2, priceMinor: 10_000, currency: "EUR" };
  const value = pushedValue("room|rate", "availability", night);

  it.each([
    [
      "is sent when the platform has not had its value",
      "availability",
      night,
      undefined,
      false,
      "send",
    ],
    [
      "is done without a call when its value is what the gate last sent",
      "availability",
      night,
      value,
      false,
      "unchanged",
    ],
    ["is sent anyway when forced", "availability", night, value, true, "send"],
    [
      "has nothing to send for prices when it has no price",
      "price",
      { date: "2027-03-01", available: 1 },
      undefined,
      false,
      "empty",
    ],
  ] as const)("%s", (_name, aspect, n, lastSent, forced, expected) => {
    expect(nightAction(aspect, n, pushedValue("room|rate", aspect, n), lastSent, forced)).toBe(
      expected,
    );
  });

  it("names where it went and what it was: another target or value is another string", () => {
    expect(pushedValue("a|", "availability", night)).not.toBe(
      pushedValue("b|", "availability", night),
    );
    expect(pushedValue("a|", "price", night)).toBe("a||p|10000|EUR");
    expect(pushedValue("a|", "availability", { ...night, available: 0 })).toBe("a||a|0");
  });
});

describe("the push budget", () => {
  it.each([
    ["whole tokens only", { outbound: 3.7, bulk: 1.2 }, false, { urgent: 3, bulk: 1 }],
    [
      "at least one call, so a flush always moves",
      { outbound: 0, bulk: 0 },
      false,
      { urgent: 1, bulk: 1 },
    ],
    [
      "no bulk call beyond its tokens while urgent work waits",
      { outbound: 0.5, bulk: 0 },
      true,
      { urgent: 1, bulk: 0 },
    ],
    ["never negative", { outbound: -2, bulk: -1 }, true, { urgent: 1, bulk: 0 }],
  ] as const)("%s", (_name, tokens, urgent, expected) => {
    expect(pushBudget(tokens, urgent)).toEqual(expected);
  });
});

describe("held groups", () => {
  const seen = (o: Partial<Parameters<typeof heldAfter>[2]> = {}) => ({
    visited: new Set<string>(),
    skipped: new Map<string, string>(),
    unmapped: [],
    ...o,
  });

  it("a missing mapping holds both aspects of the room type and names it first", () => {
    const out = heldAfter({}, new Set(["rt1|availability"]), seen({ unmapped: ["rt1"] }));
    expect(out.held).toEqual({ "rt1|availability": UNMAPPED, "rt1|price": UNMAPPED });
    expect(out.reason).toBe("room types without a mapping: rt1");
  });

  it("a group the platform refused stays held while pending and not looked at again", () => {
    const before = { "rt2|price": "room type rt2: no rate plan" };
    const kept = heldAfter(before, new Set(["rt2|price"]), seen());
    expect(kept).toEqual({ held: before, reason: "room type rt2: no rate plan" });
    // Looked at again and not skipped: it is no longer held.
    expect(
      heldAfter(before, new Set(["rt2|price"]), seen({ visited: new Set(["rt2|price"]) })),
    ).toEqual({ held: {}, reason: null });
    // No longer pending: nothing holds it.
    expect(heldAfter(before, new Set(), seen()).held).toEqual({});
  });

  it("a mapping found again is forgotten unless this pass finds it missing again", () => {
    const before = { "rt1|availability": UNMAPPED, "rt1|price": UNMAPPED };
    expect(heldAfter(before, new Set(["rt1|availability"]), seen())).toEqual({
      held: {},
      reason: null,
    });
  });

  it("reasons are joined once each, the unmapped ones first", () => {
    const skipped = new Map([
      ["a|price", "no rate plan"],
      ["b|price", "no rate plan"],
    ]);
    const out = heldAfter({}, new Set(), seen({ skipped, unmapped: ["c"] }));
    expect(out.reason).toBe("room types without a mapping: c; no rate plan");
  });

  it("urgent work counts only where the platform can take it", () => {
    expect(urgentPushable(["rt1"], { "rt1|availability": UNMAPPED })).toBe(false);
    expect(urgentPushable(["rt1", "rt2"], { "rt1|availability": UNMAPPED })).toBe(true);
    expect(urgentPushable([], {})).toBe(false);
  });
});

describe("work left after a flush", () => {
  const tally = [
    { room_type_id: "a", aspect: "availability", urgent: 1, n: 2 },
    { room_type_id: "a", aspect: "availability", urgent: 0, n: 3 },
    { room_type_id: "a", aspect: "price", urgent: 0, n: 5 },
    { room_type_id: "b", aspect: "availability", urgent: 0, n: 7 },
  ];

  it.each([
    ["everything, urgent nights apart from bulk", new Set<string>(), true, { total: 17, bulk: 15 }],
    ["not prices while price sync is off", new Set<string>(), false, { total: 12, bulk: 10 }],
    ["not held groups", new Set(["b|availability"]), true, { total: 10, bulk: 8 }],
  ] as const)("%s", (_name, held, pushPrices, expected) => {
    expect(pushableLeft(tally, held, pushPrices)).toEqual(expected);
  });
});

describe("D1 reads over nights", () => {
  it("bridge gaps of up to a week, and no more", () => {
    expect(coalesceWithin(["2027-01-01", "2027-01-02", "2027-01-09", "2027-01-20"])).toEqual([
      { start: "2027-01-01", end: "2027-01-09" },
      { start: "2027-01-20", end: "2027-01-20" },
    ]);
    expect(coalesceWithin([])).toEqual([]);
  });
});
