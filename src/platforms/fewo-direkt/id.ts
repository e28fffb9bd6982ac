/** FeWo-direkt's platform id (known, no adapter yet). */
export const FEWO_DIREKT = "fewo_direkt" as const;
/** Vrbo is the same platform under its international name: accepted as input, stored as fewo_direkt. */
export const FEWO_DIREKT_ALIASES = ["vrbo"] as const;
