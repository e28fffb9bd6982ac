/** Expedia's platform id (known, no adapter yet). */
export const EXPEDIA = "expedia" as const;
