import { AIRBNB } from "./airbnb/id";
import { BEDS24 } from "./beds24/id";
import { BOOKING_COM } from "./booking-com/id";
import { EXPEDIA } from "./expedia/id";
import { FEWO_DIREKT, FEWO_DIREKT_ALIASES } from "./fewo-direkt/id";
import { GOOGLE } from "./google/id";
import { ICAL } from "./ical/id";

/**
 * Every platform id the engine knows, in the order lists, enums and tables show them. A plain
 * list of constants (each platform's folder names its own id), so the database schema can use it
 * without importing the modules; registry.ts checks its modules against it.
 */
export const PLATFORM_IDS = [
  AIRBNB,
  BOOKING_COM,
  EXPEDIA,
  FEWO_DIREKT,
  GOOGLE,
  BEDS24,
  ICAL,
] as const;
export type Platform = (typeof PLATFORM_IDS)[number];

/** Other names accepted wherever a platform is given; each is stored as its platform's id. */
export const PLATFORM_ALIASES = [...FEWO_DIREKT_ALIASES] as const;
export type PlatformAlias = (typeof PLATFORM_ALIASES)[number];

const ALIAS_OF: Readonly<Record<PlatformAlias, Platform>> = Object.fromEntries(
  FEWO_DIREKT_ALIASES.map((alias) => [alias, FEWO_DIREKT]),
) as Record<PlatformAlias, Platform>;

/** Every name a caller may give for a platform: the ids, then the aliases (for input enums). */
export const PLATFORM_INPUTS = [...PLATFORM_IDS, ...PLATFORM_ALIASES] as const;
export type PlatformInput = (typeof PLATFORM_INPUTS)[number];

/** The platform a given name stands for: an id is itself, an alias its platform. */
export function platformOf(name: PlatformInput): Platform {
  return (PLATFORM_ALIASES as readonly string[]).includes(name)
    ? ALIAS_OF[name as PlatformAlias]
    : (name as Platform);
}

/** The platform an alias stands for (for descriptions: "vrbo is an alias of fewo_direkt"). */
export function aliasTarget(alias: PlatformAlias): Platform {
  return ALIAS_OF[alias];
}

/** The aliases as a sentence for API docs, e.g. "vrbo is an alias of fewo_direkt". */
export function aliasNote(relation: string): string {
  return PLATFORM_ALIASES.map((a) => `${a} ${relation} ${aliasTarget(a)}`).join("; ");
}
