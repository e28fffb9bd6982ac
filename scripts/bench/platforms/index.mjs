// The platforms the bench measures, one descriptor each, in report order. Nothing else in the
// bench names a platform: it asks these descriptors.
import airbnb from "./airbnb.mjs";
import beds24 from "./beds24.mjs";
import bookingCom from "./booking-com.mjs";

export const PLATFORMS = [airbnb, bookingCom, beds24];

export const LABEL = Object.fromEntries(PLATFORMS.map((p) => [p.id, p.label]));

export const platform = (id) => PLATFORMS.find((p) => p.id === id);

/**
 * Propagation (and the bookings during the flood): a guest books on `from`, whose signed webhook
 * the bench sends to the engine, timed until the night shows closed on `to`.
 */
export const PROPAGATION = { from: airbnb, to: bookingCom };

/** Edge ingest: signed webhooks of this platform, fired at the engine's webhook route. */
export const INGEST = airbnb;
