import type { Simulator } from "../kit/simulator";
import { beds24Control } from "./control";
import { beds24Profile } from "./profile";
import { beds24Routes } from "./routes";

/** The Beds24 simulator (its calendar side): authentication, properties, calendar, credits. */
export const beds24: Simulator = {
  profile: beds24Profile,
  routes: beds24Routes,
  control: beds24Control,
};
