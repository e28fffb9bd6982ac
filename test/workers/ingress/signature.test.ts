import { describe, expect, it } from "vitest";
import vectors from "../../../../shared/vectors/standard-webhooks.json";
import {
  signOtaWebhook,
  signStandardWebhook,
  verifyOtaWebhook,
  verifyStandardWebhook,
} from "../../../src/ingress/signature";

const enc = new TextEncoder();
const NOW = 1_800_000_000;
const body = '{"event_id":"evt_1","listing_id":"123"}';

async function verifyOta(header: string | null, raw = body, secrets = ["current"], now = NOW) {
  return verifyOtaWebhook({
    header,
    body: enc.encode(raw),
    secrets,
    nowSeconds: now,
    toleranceSeconds: 300,
  });
}

describe("OTA webhook signatures (t=…,v1=…)", () => {
  it("accepts a valid signature", async () => {
    expect(await verifyOta(await signOtaWebhook("current", NOW, body))).toEqual({
      ok: true,
      timestamp: NOW,
    });
  });
  it.each([
    ["missing header", null, "missing_signature"],
    ["empty header", "", "missing_signature"],
    ["no v1", `t=${NOW}`, "malformed_signature"],
    ["short mac", `t=${NOW},v1=abcd`, "malformed_signature"],
    ["non-numeric timestamp", `t=soon,v1=${"0".repeat(64)}`, "malformed_signature"],
    ["wrong mac", `t=${NOW},v1=${"0".repeat(64)}`, "signature_mismatch"],
  ])("rejects %s", async (_why, header, reason) => {
    expect(await verifyOta(header)).toEqual({ ok: false, reason });
  });
  it("rejects a wrong secret", async () => {
    expect(await verifyOta(await signOtaWebhook("other", NOW, body))).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
  });
  it("rejects stale and future timestamps even when correctly signed", async () => {
    expect(await verifyOta(await signOtaWebhook("current", NOW - 301, body))).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(await verifyOta(await signOtaWebhook("current", NOW + 301, body))).toEqual({
      ok: false,
      reason: "future_timestamp",
    });
    expect((await verifyOta(await signOtaWebhook("current", NOW - 300, body))).ok).toBe(true);
  });
  it("accepts the previous secret during rotation", async () => {
    const header = await signOtaWebhook("previous", NOW, body);
    expect((await verifyOta(header, body, ["current", "previous"])).ok).toBe(true);
    expect((await verifyOta(header, body, ["current"])).ok).toBe(false);
  });
  it("rejects a body with one byte changed", async () => {
    const header = await signOtaWebhook("current", NOW, body);
    expect(await verifyOta(header, body.replace("123", "124"))).toEqual({
      ok: false,
      reason: "signature_mismatch",
    });
  });
  it("rejects a signature whose timestamp was edited (the timestamp is signed)", async () => {
    const header = (await signOtaWebhook("current", NOW, body)).replace(`t=${NOW}`, `t=${NOW + 1}`);
    expect(await verifyOta(header)).toEqual({ ok: false, reason: "signature_mismatch" });
  });
});

describe("Standard Webhooks known-answer vector", () => {
  const v = vectors;
  const verify = (o: {
    id?: string | null;
    ts?: string | null;
    sig?: string | null;
    body?: string;
    secret?: string;
  }) =>
    verifyStandardWebhook({
      id: o.id === undefined ? v.valid.headers["webhook-id"] : o.id,
      timestamp: o.ts === undefined ? v.valid.headers["webhook-timestamp"] : o.ts,
      signature: o.sig === undefined ? v.valid.headers["webhook-signature"] : o.sig,
      body: enc.encode(o.body ?? v.valid.body),
      secrets: [o.secret ?? v.secret],
      nowSeconds: v.now,
      toleranceSeconds: 300,
    });

  it("accepts the valid vector and produces its signature", async () => {
    expect((await verify({})).ok).toBe(true);
    expect(
      await signStandardWebhook(
        v.secret,
        v.valid.headers["webhook-id"],
        Number(v.valid.headers["webhook-timestamp"]),
        v.valid.body,
      ),
    ).toBe(v.valid.headers["webhook-signature"]);
  });

  it.each(v.also_valid.map((a) => [a.why, a] as const))("accepts: %s", async (_why, a) => {
    const entry = a as { "webhook-signature"?: string; secret?: string };
    expect((await verify({ sig: entry["webhook-signature"], secret: entry.secret })).ok).toBe(true);
  });

  it.each(v.reject.map((r) => [r.why, r] as const))("rejects: %s", async (_why, r) => {
    const e = r as Record<string, string | boolean | undefined>;
    const ts =
      (e["webhook-timestamp"] as string | undefined) ?? v.valid.headers["webhook-timestamp"];
    let sig =
      (e["webhook-signature"] as string | undefined) ?? v.valid.headers["webhook-signature"];
    if (e.resign)
      sig = await signStandardWebhook(
        v.secret,
        v.valid.headers["webhook-id"],
        Number(ts),
        v.valid.body,
      );
    const result = await verify({
      id: e.drop === "webhook-id" ? null : undefined,
      ts: e.drop === "webhook-timestamp" ? null : ts,
      sig: e.drop === "webhook-signature" ? null : sig,
      body: e.body as string | undefined,
    });
    expect(result.ok).toBe(false);
  });
});
