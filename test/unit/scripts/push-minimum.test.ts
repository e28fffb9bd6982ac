import { describe, expect, it } from "vitest";
import { minCalls, minWindows, runLengths } from "../../support/push-minimum";

/**
 * The reference model of the fewest push calls (scripts/lib/push-minimum.mjs), which the adapter
 * tests and the bench both measure against: checked here on cases small enough to count by hand.
 */

const nights = (dates: string[], value: (d: string) => string | number = () => "x") =>
  dates.map((date) => ({ date, value: value(date) }));

describe("push-minimum", () => {
  it.each([
    { case: "no nights", dates: [], runs: [] },
    {
      case: "consecutive, one value",
      dates: ["2027-03-01", "2027-03-02", "2027-03-03"],
      runs: [3],
    },
    { case: "a gap splits a run", dates: ["2027-03-01", "2027-03-03"], runs: [1, 1] },
    { case: "across a month end", dates: ["2027-02-28", "2027-03-01"], runs: [2] },
  ])("runLengths: $case", ({ dates, runs }) => {
    expect(runLengths(nights(dates), (n) => n.value)).toEqual(runs);
  });

  it("runLengths: a new value starts a new run", () => {
    const dates = ["2027-03-01", "2027-03-02", "2027-03-03"];
    expect(
      runLengths(
        nights(dates, (d) => (d === "2027-03-02" ? 2 : 1)),
        (n) => n.value,
      ),
    ).toEqual([1, 1, 1]);
  });

  it.each([
    { case: "nothing to send", runs: [], calls: 0 },
    { case: "one run within the limits", runs: [366], calls: 1 },
    { case: "a run longer than a call is cut", runs: [367], calls: 2 },
    { case: "operations fill a call", runs: Array(51).fill(1), calls: 2 },
    { case: "nights fill a call across runs", runs: [200, 200, 200], calls: 2 },
  ])("minCalls (≤ 50 operations, ≤ 366 nights): $case", ({ runs, calls }) => {
    expect(minCalls(runs, 50, 366)).toBe(calls);
  });

  it.each([
    { case: "no dates", dates: [], windows: 0 },
    { case: "31 days in one window", dates: ["2027-03-01", "2027-03-31"], windows: 1 },
    { case: "the 32nd day needs another", dates: ["2027-03-01", "2027-04-01"], windows: 2 },
    {
      case: "order does not matter",
      dates: ["2027-04-01", "2027-03-01", "2027-03-15"],
      windows: 2,
    },
  ])("minWindows (31 days): $case", ({ dates, windows }) => {
    expect(minWindows(dates, 31)).toBe(windows);
  });
});
