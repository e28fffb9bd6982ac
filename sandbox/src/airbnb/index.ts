import type { Simulator } from "../kit/simulator";
import { airbnbControl } from "./control";
import { airbnbGuests } from "./guests";
import { airbnbProfile } from "./profile";
import { airbnbRoutes } from "./routes";

/** The Airbnb simulator: OAuth refresh grant and the `/v2` JSON API, host accounts, guests. */
export const airbnb: Simulator = {
  profile: airbnbProfile,
  routes: airbnbRoutes,
  control: airbnbControl,
  guests: airbnbGuests,
};
