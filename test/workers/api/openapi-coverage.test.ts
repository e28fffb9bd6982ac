import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";

/** The document describes itself and its viewer; everything else must be in it. */
const SELF_DESCRIBING = new Set(["GET /openapi.json", "GET /docs"]);

describe("OpenAPI document", () => {
  it("contains every mounted route, and nothing that is not mounted", async () => {
    const app = createApp();
    const mounted = new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
        .filter((r) => !SELF_DESCRIBING.has(r)),
    );
    const res = await app.request("/openapi.json", {}, {} as Env);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !mounted.has(r))).toEqual([]);
    expect(mounted.size).toBeGreaterThan(20);
  });

  it("declares bearer auth on every tenant route", async () => {
    const app = createApp();
    const doc = (await (await app.request("/openapi.json", {}, {} as Env)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith("/api/v1/") || path.startsWith("/api/v1/webhooks/")) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path}`).toEqual([{ Bearer: [] }]);
      }
    }
  });

  it("declares the metrics token on /metrics, with its 401 and 404", async () => {
    const app = createApp();
    const doc = (await (await app.request("/openapi.json", {}, {} as Env)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: object }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    const op = doc.paths["/metrics"]!.get!;
    expect(op.security).toEqual([{ MetricsToken: [] }]);
    expect(Object.keys(op.responses).sort()).toEqual(["200", "401", "404"]);
    expect(doc.components.securitySchemes.MetricsToken).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
  });
});
