/** Beds24's platform id. */
export const BEDS24 = "beds24" as const;
