const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64url(input: string | ArrayBuffer): string {
  const bytes = typeof input === "string" ? encoder.encode(input) : new Uint8Array(input);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function hmacSha256(secret: string, data: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return crypto.subtle.sign("HMAC", key, encoder.encode(data));
}

/** The OTA webhook scheme the simulators sign with: `t=<unix s>,v1=<hex HMAC("<t>.<body>")>`. */
export async function signatureHeader(
  secret: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const mac = await hmacSha256(secret, `${timestampSeconds}.${body}`);
  return `t=${timestampSeconds},v1=${toHex(mac)}`;
}
