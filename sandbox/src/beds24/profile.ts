import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../kit/app-env";
import type { PlatformProfile } from "../kit/simulator";

/**
 * Beds24 (API v2, JSON; PROTOCOLS.md): rooms of properties read as rooms to sell per night and
 * take no bookings here; header `token` on every call; credits per rolling 5 minutes per account
 * instead of a request rate (the cost rule is in store.ts).
 */
export const beds24Profile: PlatformProfile = { name: "beds24", inventory: "rooms" };

/** PROTOCOLS.md: 100 credits per rolling 5 minutes per account. */
export const CREDIT_LIMIT = 100;
export const CREDIT_WINDOW_MS = 300_000;
/** An access token lives 24 h. */
export const ACCESS_TOKEN_TTL_S = 86_400;

/** Beds24's error shape. */
export function fail(c: Context<AppEnv>, status: number, error: string) {
  return c.json(
    { success: false, type: "error", code: status, error },
    status as ContentfulStatusCode,
  );
}
