import {
  DEFAULT_COALESCE,
  gateSettingsOf,
  type CoalesceConfig,
  type GateSettings,
  type PublishedLimit,
} from "../domain/gate-settings";
import type { Platform } from "../platforms/ids";
import { PLATFORM_MODULES } from "../platforms/registry";

/**
 * A connection's gate settings: its platform's published limit, as the platform's module declares
 * it (src/platforms/<platform>/index.ts), under the connection's overrides. The arithmetic is pure
 * in domain/gate-settings.ts; this is where the registry is asked.
 */
export const PLATFORM_RATE_LIMITS: Readonly<Record<Platform, PublishedLimit>> = Object.fromEntries(
  PLATFORM_MODULES.map((m) => [m.id, m.rateLimit]),
) as Record<Platform, PublishedLimit>;

export function gateSettingsFor(
  platform: Platform,
  stored: string | null | undefined,
  defaults: CoalesceConfig = DEFAULT_COALESCE,
): GateSettings {
  return gateSettingsOf(PLATFORM_RATE_LIMITS[platform], stored, defaults);
}
