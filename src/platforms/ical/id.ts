/** The platform id of iCal feeds (known, no adapter yet). */
export const ICAL = "ical" as const;
