import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SELF_FETCH } from "../../../support/fixtures";

/** The engine's log lines of one event, parsed (captured as test/workers/api/no-secrets.test.ts does). */
let lines: string[] = [];
beforeEach(() => {
  lines = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
});
afterEach(() => vi.restoreAllMocks());

const rejections = () =>
  lines
    .filter((l) => l.includes('"webhook.rejected"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function junk(n: number, path = () => crypto.randomUUID()): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () =>
      SELF_FETCH(`http://engine.test/api/v1/webhooks/${path()}`, { method: "POST", body: "{}" }),
    );
    for (const res of await Promise.all(batch)) expect([401, 404]).toContain(res.status);
  }
}

/** Moves this isolate's clock (the engine runs in it, through SELF_FETCH). */
function clockAt(ms: number): void {
  vi.spyOn(Date, "now").mockReturnValue(ms);
}

describe("webhook rejection logs are sampled", () => {
  it("writes at most 10 lines per reason per minute, then says how many it held back", async () => {
    // A minute no earlier test of this isolate has logged in.
    const t0 = Date.now() + 10 * 60_000;
    clockAt(t0);
    await junk(2_000);
    const flood = rejections();
    expect(flood).toHaveLength(10);
    expect(flood.every((l) => l.reason === "unknown_platform" && l.platform === "unknown")).toBe(
      true,
    );
    expect(flood.slice(1).every((l) => l.suppressed === undefined)).toBe(true);

    lines = [];
    clockAt(t0 + 60_000);
    await junk(1);
    expect(rejections()).toMatchObject([{ reason: "unknown_platform", suppressed: 1_990 }]);
  }, 60_000);

  it("samples each reason apart, so a flood of one never hides another", async () => {
    clockAt(Date.now() + 20 * 60_000);
    await junk(500);
    await junk(500, () => "airbnb"); // no signature header
    const of = (reason: string) => rejections().filter((l) => l.reason === reason);
    expect(of("unknown_platform")).toHaveLength(10);
    expect(of("missing_signature")).toHaveLength(10);
    expect(of("missing_signature")[0]).toMatchObject({ platform: "airbnb" });
  }, 60_000);
});
