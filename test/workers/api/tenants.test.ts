import { describe, expect, it } from "vitest";
import { SELF_FETCH } from "../../support/fixtures";
import { seed } from "../../support/seed";

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  SELF_FETCH(`http://engine.test${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.headers ?? {}),
    },
  });

/** POST /tenants as the operator (seed.tenant expects its 201). */
async function createTenant(name: string) {
  const t = await seed.tenant({ name });
  return { tenant: { id: t.tenantId }, token: { token: t.admin, id: t.adminTokenId } };
}

describe("tenants and tokens", () => {
  it("creates a tenant with its first admin token only for the operator", async () => {
    const denied = await api("/api/v1/tenants", {
      method: "POST",
      token: "nope",
      body: '{"name":"x"}',
    });
    expect(denied.status).toBe(401);
    const { tenant, token } = await createTenant("Agency A");
    expect(tenant.id).toMatch(/^ten_/);
    expect(token.token).toMatch(/^cm_/);
    const list = await api("/api/v1/tokens", { token: token.token });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { data: Array<Record<string, unknown>> };
    expect(body.data).toHaveLength(1);
    expect(JSON.stringify(body)).not.toContain(token.token);
  });

  it.each<[string, RequestInit & { token?: string }]>([
    ["missing", {}],
    ["malformed", { headers: { authorization: "Basic abc" } }],
    ["unknown", { token: `cm_${"x".repeat(43)}` }],
  ])("answers 401 for a %s token", async (_what, init) => {
    expect((await api("/api/v1/tokens", init)).status).toBe(401);
  });

  it("answers 401 for a revoked token", async () => {
    const { token } = await createTenant("Agency B");
    const created = await api("/api/v1/tokens", {
      method: "POST",
      token: token.token,
      body: JSON.stringify({ name: "pms", role: "admin" }),
    });
    const second = (await created.json()) as { id: string; token: string };
    expect(
      (await api(`/api/v1/tokens/${second.id}`, { method: "DELETE", token: token.token })).status,
    ).toBe(200);
    const revoked = await api("/api/v1/tokens", { token: second.token });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { code: string } }).error.code).toBe(
      "revoked_token",
    );
  });

  it("lets a read-only token read but not write", async () => {
    const { token } = await createTenant("Agency C");
    const ro = (await (
      await api("/api/v1/tokens", {
        method: "POST",
        token: token.token,
        body: JSON.stringify({ name: "viewer" }),
      })
    ).json()) as { token: string; role: string };
    expect(ro.role).toBe("read_only");
    expect((await api("/api/v1/tokens", { token: ro.token })).status).toBe(200);
    const write = await api("/api/v1/tokens", {
      method: "POST",
      token: ro.token,
      body: JSON.stringify({ name: "x" }),
    });
    expect(write.status).toBe(403);
  });

  it("never lets tenant B revoke tenant A's token (404, not A's data)", async () => {
    const a = await createTenant("Agency D");
    const b = await createTenant("Agency E");
    const res = await api(`/api/v1/tokens/${a.token.id}`, {
      method: "DELETE",
      token: b.token.token,
    });
    expect(res.status).toBe(404);
    expect((await api("/api/v1/tokens", { token: a.token.token })).status).toBe(200);
  });

  it("names the invalid field with 422", async () => {
    const { token } = await createTenant("Agency F");
    const res = await api("/api/v1/tokens", {
      method: "POST",
      token: token.token,
      body: JSON.stringify({ name: "x", role: "root" }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("role");
  });

  it("serves the OpenAPI 3.1 document and the reference page", async () => {
    const doc = (await (await api("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/tenants",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/webhooks/{platform}",
      ]),
    );
    const page = await api("/docs");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("SwaggerUIBundle");
  });
});
