import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { hashApiToken } from "../../../src/http/tokens";
import { unknownTokens } from "../../../src/http/unknown-tokens";
import { SELF_FETCH, uniqueDigits } from "../../support/fixtures";

/** A well-formed API token nobody issued (`cm_` + 43 base64url characters). */
const madeUp = () => `cm_${uniqueDigits(43).padEnd(43, "A").slice(0, 43)}`;

async function get(path: string, token: string) {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

/**
 * The engine's D1 token lookups. The fetch handler runs in this isolate (SELF_FETCH) with this
 * `env`, so a spy on its DB sees every statement the middleware prepares.
 */
let lookups = 0;
beforeEach(() => {
  lookups = 0;
  const prepare = env.DB.prepare.bind(env.DB);
  vi.spyOn(env.DB, "prepare").mockImplementation((sql: string) => {
    if (/\bfrom\s+"?api_tokens"?\s/i.test(sql) && sql.includes("token_hash")) lookups += 1;
    return prepare(sql);
  });
});
afterEach(() => vi.restoreAllMocks());

let tenant: { id: string; admin: string };
beforeAll(async () => {
  const res = await SELF_FETCH("http://engine.test/api/v1/tenants", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.OPERATOR_TOKEN}` },
    body: JSON.stringify({ name: "Negative cache" }),
  });
  const body = (await res.json()) as { tenant: { id: string }; token: { token: string } };
  tenant = { id: body.tenant.id, admin: body.token.token };
});

describe("a well-formed but unknown bearer token", () => {
  it("costs one D1 query however often it is sent, and a real token still works", async () => {
    const forged = madeUp();
    for (let i = 0; i < 50; i++) {
      expect(await get("/api/v1/properties", forged)).toEqual({
        status: 401,
        code: "invalid_token",
      });
    }
    expect(lookups).toBe(1);
    // Remembered by its hash, never the token itself.
    expect(unknownTokens.has(await hashApiToken(forged))).toBe(true);
    expect(unknownTokens.has(forged)).toBe(false);

    lookups = 0;
    expect((await get("/api/v1/properties", tenant.admin)).status).toBe(200);
    expect((await get("/api/v1/properties", tenant.admin)).status).toBe(200);
    expect(lookups).toBe(2);
  });

  it("starts working within 30 s once it is in D1 (seeded after it was refused)", async () => {
    const token = madeUp();
    expect((await get("/api/v1/properties", token)).status).toBe(401);
    await env.DB.prepare(
      `INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, token_prefix, created_at)
       VALUES (?, ?, 'seeded', 'read_only', ?, ?, ?)`,
    )
      .bind(`tok_${uniqueDigits(12)}`, tenant.id, await hashApiToken(token), token.slice(0, 9), 1)
      .run();
    expect((await get("/api/v1/properties", token)).status).toBe(401);
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 30_001);
    expect((await get("/api/v1/properties", token)).status).toBe(200);
    expect(lookups).toBe(2);
  });
});

describe("a revoked token", () => {
  it("stays refused on every request, each read from D1 (nothing positive is cached)", async () => {
    const created = await SELF_FETCH("http://engine.test/api/v1/tokens", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.admin}` },
      body: JSON.stringify({ name: "soon revoked" }),
    });
    const { id, token } = (await created.json()) as { id: string; token: string };
    expect((await get("/api/v1/properties", token)).status).toBe(200);
    const revoked = await SELF_FETCH(`http://engine.test/api/v1/tokens/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${tenant.admin}` },
    });
    expect(revoked.status).toBe(200);
    lookups = 0;
    for (let i = 0; i < 5; i++) {
      expect(await get("/api/v1/properties", token)).toEqual({
        status: 401,
        code: "revoked_token",
      });
    }
    expect(lookups).toBe(5);
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60 * 60_000);
    expect(await get("/api/v1/properties", token)).toEqual({ status: 401, code: "revoked_token" });
  });
});
