import type { Context, Hono } from "hono";
import type { AppEnv } from "./app-env";
import type { ReadResult } from "./control-body";
import type {
  InventoryModel,
  NewReservation,
  PlatformName,
  ReservationAction,
  ReservationRow,
} from "./store/types";

/**
 * The shape every simulator has: a profile (who it is, its published limits, how it answers),
 * its platform routes, its own control routes and its store (the PlatformState methods in its
 * folder's store.ts). The kit mounts them and adds what they all share (see kit/control.ts).
 */
export interface Simulator {
  profile: PlatformProfile;
  /** The platform's API, mounted at `/<name>`. */
  routes: Hono<AppEnv>;
  /** Its own control routes, mounted at `/_sandbox/<name>` before the shared ones. */
  control: Hono<AppEnv>;
  /** Present when guests book through the control API and signed webhooks announce it. */
  guests?: GuestSide;
}

export interface PlatformProfile {
  /** URL segment and PlatformState instance name. */
  name: PlatformName;
  /** How a booking touches its own calendar. */
  inventory: InventoryModel;
}

export type ApiErrorKind = "unauthorized" | "rate_limited" | "unavailable" | "timeout";

/** A profile whose API sits behind the kit's bearer-token gate (kit/gate.ts `apiGate`). */
export interface ApiProfile extends PlatformProfile {
  /** The published limit, enforced only when the enforce_rate_limit switch is on. */
  rateLimit: { limit: number; windowMs: number };
  /** How the platform answers errors that happen before its handlers run. */
  error(c: Context<AppEnv>, kind: ApiErrorKind, status: number, message: string): Response;
}

/** How webhooks are signed: the header and the secret (the OTA scheme of kit/crypto.ts). */
export interface WebhookSigning {
  header: string;
  secret(env: Env): string;
}

/** What differs between the platforms when a guest books, changes or cancels. */
export interface GuestSide {
  /** Read a new booking's control body into the reservation it makes. */
  readReservation(c: Context): Promise<ReadResult<NewReservation>>;
  /** Response shape of a reservation. */
  serialize(r: ReservationRow): unknown;
  /** Webhook payload announcing a reservation change. */
  event(action: ReservationAction, r: ReservationRow): Record<string, unknown>;
  webhook: WebhookSigning;
}
