import type { Simulator } from "../kit/simulator";
import { bookingControl } from "./control";
import { bookingGuests } from "./guests";
import { bookingProfile } from "./profile";
import { bookingRoutes } from "./routes";

/** The Booking.com simulator: JWT token endpoint, OTA and B.XML endpoints, hotels, guests. */
export const bookingCom: Simulator = {
  profile: bookingProfile,
  routes: bookingRoutes,
  control: bookingControl,
  guests: bookingGuests,
};
