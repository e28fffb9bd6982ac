import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { PLATFORMS } from "../../../src/store/schema/channels.schema";
import { WEBHOOK_REJECTIONS } from "../../../src/lib/metrics";
import { SELF_FETCH } from "../../support/fixtures";

function scrape(authorization?: string): Promise<Response> {
  return SELF_FETCH("http://engine.test/metrics", {
    headers: authorization ? { authorization } : {},
  });
}

/** Every `name{labels} value` line of /metrics, as series → value. */
async function series(): Promise<Map<string, number>> {
  const res = await scrape(`Bearer ${env.METRICS_TOKEN}`);
  expect(res.status).toBe(200);
  const lines = (await res.text()).split("\n").filter(Boolean);
  return new Map(
    lines.map((line) => {
      const cut = line.lastIndexOf(" ");
      return [line.slice(0, cut), Number(line.slice(cut + 1))];
    }),
  );
}

const junkName = (i: number) =>
  `${crypto.randomUUID().slice(0, 8)}${["", "%22%0A", "%C3%A9", "_booking", "-x"][i % 5]}${i}`;

/** Junk to the webhook edge: random platform paths, known platforms with junk, no signature. */
function junkWebhook(i: number): Promise<Response> {
  const platform =
    i % 4 === 0 ? junkName(i) : i % 4 === 1 ? PLATFORMS[i % PLATFORMS.length]! : "airbnb";
  const headers: Record<string, string> = {};
  if (i % 4 === 3) headers["x-airbnb-signature"] = `t=${i},v1=${"0".repeat(64)}`;
  return SELF_FETCH(`http://engine.test/api/v1/webhooks/${platform}`, {
    method: "POST",
    headers,
    body: `{"junk":${i}}`,
  });
}

async function sendJunk(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const batch = Array.from({ length: Math.min(100, to - i) }, (_, k) => junkWebhook(i + k));
    for (const res of await Promise.all(batch)) expect([401, 404]).toContain(res.status);
  }
}

const rejected = (m: Map<string, number>) =>
  [...m].filter(([name]) => name.startsWith("webhook_rejected_total{"));

describe("GET /metrics", () => {
  it("answers only the METRICS_TOKEN bearer, with 401 in the error envelope otherwise", async () => {
    const missing = await scrape();
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: "missing_token" } });
    for (const wrong of ["Bearer not-the-metrics-token", `Bearer ${env.METRICS_TOKEN}x`]) {
      const res = await scrape(wrong);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_token" } });
    }
    expect((await scrape(`Bearer ${env.OPERATOR_TOKEN}`)).status).toBe(401);
    const ok = await scrape(`Bearer ${env.METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
  });

  it("is not exposed (404, like an unknown route) when METRICS_TOKEN is not set", async () => {
    for (const unset of [undefined, ""]) {
      const res = await createApp().request(
        "/metrics",
        { headers: { authorization: "Bearer anything" } },
        { ...env, METRICS_TOKEN: unset } as Env,
      );
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: "not_found", message: "no route for GET /metrics" },
      });
    }
  });

  it("keeps a fixed set of series however many junk webhook paths arrive", async () => {
    await sendJunk(0, 200);
    const early = await series();
    await sendJunk(200, 2_000);
    const late = await series();
    // 1,800 more junk requests, no new series: only the counts moved.
    expect([...late.keys()].sort()).toEqual([...early.keys()].sort());
    const labels = rejected(late).map(([name]) => name);
    expect(labels.length).toBeLessThanOrEqual((PLATFORMS.length + 1) * WEBHOOK_REJECTIONS.length);
    for (const name of labels) {
      const [, platform, reason] = /platform="([^"]*)",reason="([^"]*)"/.exec(name) ?? [];
      expect([...PLATFORMS, "unknown"]).toContain(platform);
      expect(WEBHOOK_REJECTIONS).toContain(reason);
    }
    // Every junk path falls into one series, and every rejection is still counted.
    const unknown = 'webhook_rejected_total{platform="unknown",reason="unknown_platform"}';
    expect(late.get(unknown)! - (early.get(unknown) ?? 0)).toBe(1_800 / 4);
    const total = (m: Map<string, number>) => rejected(m).reduce((sum, [, n]) => sum + n, 0);
    expect(total(late) - total(early)).toBe(1_800);
  }, 60_000);
});
