import { describe, expect, it } from "vitest";
import { api, ENGINE } from "../../support/api";
import { API_SCHEMA_SHA256 } from "../../support/api-schema.hash";
import { canonicalJson } from "../../support/canonical-json.mjs";
import { SELF_FETCH } from "../../support/fixtures";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The typed client's `paths` (test/support/api-schema.d.ts) is generated from /openapi.json by
// `npm run api:types`. Regenerating here with openapi-typescript would pull the TypeScript compiler
// and Redocly's node-only loader into workerd; the generator records the document's hash instead,
// and this compares it with the document the engine serves now.
describe("typed API client", () => {
  it("was generated from the OpenAPI document the engine serves (else: npm run api:types)", async () => {
    // The document describes itself, so its own path is not among the generated `paths`.
    const response = await SELF_FETCH(`${ENGINE}/openapi.json`);
    expect(response.status).toBe(200);
    expect(await sha256Hex(canonicalJson(await response.json()))).toBe(API_SCHEMA_SHA256);
  });

  it("sends a typed request to the engine's fetch handler and reads its JSON answer", async () => {
    const { data, error, response } = await api().GET("/health");
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    expect(data).toEqual({ ok: true, service: "channel-manager" });
  });
});
