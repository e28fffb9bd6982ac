import { base64url, hmacSha256 } from "../kit/crypto";
import { randomHex } from "../kit/random";

/** A JWT-shaped access token (HS256 over header.payload), as Booking.com's token endpoint mints. */
export async function mintJwt(
  clientId: string,
  secret: string,
  ttlSeconds: number,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({
      iss: "channel-sandbox/booking_com",
      sub: clientId,
      aud: "connectivity",
      iat,
      exp: iat + ttlSeconds,
      jti: randomHex(16),
    }),
  );
  const signature = base64url(await hmacSha256(secret, `${header}.${payload}`));
  return `${header}.${payload}.${signature}`;
}
