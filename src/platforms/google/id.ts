/** Google's (Hotel Center / vacation rentals) platform id (known, no adapter yet). */
export const GOOGLE = "google" as const;
