export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/**
 * OAuth token requests arrive form-encoded (the standard) or as JSON; client credentials may also
 * come as HTTP Basic (client_secret_basic). Everything is flattened into one string map.
 */
export async function readOAuthParams(req: Request): Promise<Record<string, string>> {
  // Decoded by hand: workerd warns when .text() is called on a form-encoded body.
  const text = new TextDecoder().decode(await req.arrayBuffer());
  const params: Record<string, string> = {};
  const type = req.headers.get("content-type") ?? "";
  if (type.includes("application/json")) {
    try {
      const json: unknown = JSON.parse(text);
      if (json && typeof json === "object") {
        for (const [k, v] of Object.entries(json)) if (typeof v === "string") params[k] = v;
      }
    } catch {
      // An unparsable body simply carries no parameters: the grant checks answer for it.
    }
  } else {
    for (const [k, v] of new URLSearchParams(text)) params[k] = v;
  }
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
  if (basic?.[1]) {
    try {
      const decoded = atob(basic[1]);
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        params.client_id ??= decodeURIComponent(decoded.slice(0, colon));
        params.client_secret ??= decodeURIComponent(decoded.slice(colon + 1));
      }
    } catch {
      // Malformed Basic credentials are treated as absent.
    }
  }
  return params;
}

export function clampLimit(raw: string | undefined, fallback: number, max: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
}
