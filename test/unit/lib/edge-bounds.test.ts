import { describe, expect, it } from "vitest";
import { ExpiringSet } from "../../../src/http/unknown-tokens";
import { LogSampler } from "../../../src/lib/log-sampler";
import { count, labelValue, metricsText } from "../../../src/lib/metrics";

/** What the public edge keeps in memory per isolate stays bounded, whatever arrives. */

describe("LogSampler", () => {
  it("admits `limit` lines per key per window and reports the rest in the next window's first", () => {
    let now = 1_000;
    const sampler = new LogSampler(3, 60_000, () => now);
    const admitted = Array.from({ length: 10 }, () => sampler.admit("a"));
    expect(admitted.filter(Boolean)).toEqual([
      { suppressed: 0 },
      { suppressed: 0 },
      { suppressed: 0 },
    ]);
    now += 59_999;
    expect(sampler.admit("a")).toBeNull();
    now += 1;
    expect(sampler.admit("a")).toEqual({ suppressed: 8 });
    expect(sampler.admit("a")).toEqual({ suppressed: 0 });
  });

  it("keeps keys apart", () => {
    const sampler = new LogSampler(1, 60_000, () => 0);
    expect(sampler.admit("a")).toEqual({ suppressed: 0 });
    expect(sampler.admit("a")).toBeNull();
    expect(sampler.admit("b")).toEqual({ suppressed: 0 });
  });
});

describe("ExpiringSet", () => {
  it("forgets an entry after its TTL", () => {
    let now = 0;
    const set = new ExpiringSet(30_000, 10, () => now);
    set.add("h");
    now = 29_999;
    expect(set.has("h")).toBe(true);
    now = 30_000;
    expect(set.has("h")).toBe(false);
    expect(set.size).toBe(0);
  });

  it("never holds more than maxEntries, evicting the oldest first", () => {
    let now = 0;
    const set = new ExpiringSet(30_000, 100, () => now);
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      set.add(`h${i}`);
    }
    expect(set.size).toBe(100);
    expect(set.has("h9899")).toBe(false);
    expect(set.has("h9900")).toBe(true);
    // Adding again renews an entry: it becomes the newest.
    set.add("h9900");
    set.add("new");
    expect(set.has("h9900")).toBe(true);
    expect(set.has("h9901")).toBe(false);
  });

  it("deletes on demand", () => {
    const set = new ExpiringSet(30_000, 10, () => 0);
    set.add("h");
    set.delete("h");
    expect(set.has("h")).toBe(false);
  });
});

describe("metric labels", () => {
  it("count a value outside the label's fixed set as unknown", () => {
    expect(labelValue("platform", "airbnb")).toBe("airbnb");
    expect(labelValue("platform", 'x"}\nfake_total 1')).toBe("unknown");
    expect(labelValue("reason", "missing_signature")).toBe("missing_signature");
    expect(labelValue("reason", "anything else")).toBe("unknown");
    for (let i = 0; i < 1_000; i++) count("node_test_total", { platform: `p${i}` });
    expect(metricsText()).toContain('node_test_total{platform="unknown"} 1000\n');
    expect(metricsText().match(/node_test_total/g)).toHaveLength(1);
  });
});
