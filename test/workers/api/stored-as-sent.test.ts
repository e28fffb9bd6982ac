import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SELF_FETCH } from "../../support/fixtures";

/**
 * What the API answers is what it stored. A lone surrogate ("\ud800" in a JSON escape) would be
 * answered as sent but read back from D1 as U+FFFD, so it is refused with 422 naming the field
 * before anything is written; NUL too (SQLite's text functions stop at it). Well-formed text of
 * any script, emoji included, reads back byte for byte.
 */

async function call(method: string, path: string, token: string, rawBody: string) {
  const res = await SELF_FETCH(`http://engine.test${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: rawBody,
  });
  return { status: res.status, body: (await res.json()) as any };
}

let admin: string;
let propertyId: string;

beforeAll(async () => {
  const t = await call(
    "POST",
    "/api/v1/tenants",
    "test-operator-token",
    '{"name":"Namensagentur"}',
  );
  admin = t.body.token.token;
  const p = await call(
    "POST",
    "/api/v1/properties",
    admin,
    '{"name":"Haus","time_zone":"Europe/Berlin"}',
  );
  propertyId = p.body.id;
});

// Raw JSON text: the escapes reach the API exactly as a client would send them.
const BAD = [
  ["a lone high surrogate", '"\\ud800"', "lone UTF-16 surrogate"],
  ["a lone low surrogate after text", '"Haus \\udc00"', "lone UTF-16 surrogate"],
  ["a surrogate pair cut in half", '"\\ud83d"', "lone UTF-16 surrogate"],
  ["a NUL", '"Haus\\u0000am See"', "NUL character"],
] as const;

describe("names are stored as sent", () => {
  it.each(BAD)(
    "a property name with %s is refused with 422 naming the field",
    async (_, name, why) => {
      const before = await env.DB.prepare(`SELECT count(*) AS n FROM properties`).first<{
        n: number;
      }>();
      const res = await call(
        "POST",
        "/api/v1/properties",
        admin,
        `{"name":${name},"time_zone":"Europe/Berlin"}`,
      );
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toContain(`name: contains a ${why}`);
      expect(res.body.error.details).toEqual([
        { path: "name", message: expect.stringContaining(why) },
      ]);
      const after = await env.DB.prepare(`SELECT count(*) AS n FROM properties`).first<{
        n: number;
      }>();
      expect(after?.n).toBe(before?.n);
    },
  );

  it.each([
    ["POST", "/api/v1/tenants", "name", (): string => "test-operator-token"],
    ["POST", "/api/v1/tokens", "name", (): string => admin],
    ["PATCH", `/api/v1/properties/{p}`, "name", (): string => admin],
    ["POST", `/api/v1/properties/{p}/room-types`, "name", (): string => admin],
  ] as const)("%s %s refuses a lone surrogate in %s", async (method, path, field, token) => {
    const body = path.endsWith("room-types")
      ? `{"${field}":"\\ud800","units":1}`
      : `{"${field}":"\\ud800"}`;
    const res = await call(method, path.replace("{p}", propertyId), token(), body);
    expect(res.status).toBe(422);
    expect(res.body.error.details[0]).toMatchObject({ path: field });
  });

  it("well-formed text of any script, emoji included, reads back exactly", async () => {
    const name = "Ferienhaus 🏖️ Dünenblick — 海辺の家 𝔘";
    const created = await call(
      "POST",
      "/api/v1/properties",
      admin,
      JSON.stringify({ name, time_zone: "Europe/Berlin" }),
    );
    expect(created.status).toBe(201);
    const read = await SELF_FETCH(`http://engine.test/api/v1/properties/${created.body.id}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(((await read.json()) as { name: string }).name).toBe(name);
  });
});
