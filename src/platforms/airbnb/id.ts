/** Airbnb's platform id (stored in channel_connections.platform and everywhere a platform is named). */
export const AIRBNB = "airbnb" as const;
