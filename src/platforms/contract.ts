import type { MappingType, NightAspect } from "../domain/vocabulary";
import type { Platform } from "./ids";
import type { IsoDate } from "../domain/dates";

/**
 * What every platform module and the kit share: the engine's vocabulary for bookings, nights and
 * pushes, the adapter context, the token store's shape and PlatformError. Types and one error
 * class only, importing nothing from kit/, so kit/ can import it without a cycle.
 */

/** A booking as the platform reports it, already in the engine's vocabulary. */
export interface ChannelBooking {
  platform: Platform;
  channelBookingId: string;
  /** Booking.com hotel id; Airbnb has none (listings stand alone). */
  externalPropertyId?: string;
  /** Airbnb listing id, Booking.com room id. */
  externalRoomId: string;
  status: "confirmed" | "cancelled";
  checkIn: IsoDate;
  checkOut: IsoDate;
  guestName?: string;
  guestCount?: number;
  amountMinor?: number;
  currency?: string;
  /** The platform's last-modified time (epoch ms): newer revisions win, older ones are ignored. */
  revision: number;
}

/** What a verified webhook tells us: a hint of what to fetch, never the truth itself. */
export interface WebhookHint {
  eventId: string;
  eventType: string;
  externalPropertyId?: string;
  externalRoomId?: string;
  bookingRef?: string;
}

/** The state of one night on one room type, read from D1 at push time. */
export interface NightState {
  date: IsoDate;
  /** Units still sellable (capacity - booked - blocked). */
  available: number;
  priceMinor?: number;
  currency?: string;
}

export interface PushTarget {
  externalPropertyId: string;
  externalRoomId: string;
  /** Rate plan for platforms that price per rate (Booking.com); a default is used when absent. */
  externalRatePlanId?: string;
}

export interface PlatformCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken?: string;
  /** The connection whose own credentials these are; tokens are cached per account. */
  account?: string;
}

export interface TokenGrant {
  accessToken: string;
  expiresInSeconds: number;
}

export interface TokenSource {
  platform: Platform;
  baseUrl: string;
  clientId: string;
  /** Whose token it is when one app serves many accounts (per-connection refresh tokens). */
  account?: string;
  now: () => number;
  /** Ask the platform for a new token. */
  mint: () => Promise<TokenGrant>;
  /** Most tokens minted per rolling hour for this key (unlimited when absent). */
  maxMintsPerHour?: number;
}

export type TokenKey = Pick<TokenSource, "platform" | "baseUrl" | "clientId" | "account">;

/** Where access tokens live (kit/token-cache.ts: isolate memory; the ChannelGate: its storage). */
export interface TokenStore {
  /** A valid access token: the stored one, the one being minted, or a new one (one mint at a time). */
  getAccessToken(source: TokenSource): Promise<string>;
  /** Forget `token` if it is still the current one (another caller may have replaced it). */
  invalidate(key: TokenKey, token: string): Promise<void>;
  /** The refresh token to send: the latest rotated one, else the configured one. */
  currentRefreshToken(key: TokenKey, configured: string): Promise<string>;
  rememberRefreshToken(key: TokenKey, configured: string, latest: string): Promise<void>;
}

export interface AdapterContext {
  baseUrl: string;
  credentials: PlatformCredentials;
  /** Every platform call goes through this (the ChannelGate's rate limiter and breaker). */
  fetch: typeof fetch;
  now: () => number;
  /** Sent as Idempotency-Key where the platform honours one. */
  idempotencyKey?: string;
  /** Where access tokens live; isolate memory when absent (the ChannelGate stores them). */
  tokens?: TokenStore;
}

export interface PulledBookings {
  bookings: ChannelBooking[];
  /**
   * What the platform needs to hear back once bookings are stored (Booking.com's pull
   * acknowledgement): plain data, so it can cross from the ChannelGate to the consumer and back.
   */
  acknowledgement?: unknown;
}

export type { NightAspect };

/** One platform request of a push, planned before anything is sent. */
export interface PlannedCall {
  aspect: NightAspect;
  /** The dirty dates this request brings up to date. */
  dates: IsoDate[];
  /** For logs: "OTA_HotelAvailNotif 2026-12-01..2026-12-31". */
  label: string;
  /**
   * What the request sends (method, path and body), the same for the same request every time:
   * volatile fields (a timestamp, the echo token) are left out. The gate's Idempotency-Key is a
   * hash of it, so a retry carrying another body never reuses a key.
   */
  content: string;
  send(ctx: AdapterContext): Promise<void>;
}

export interface PushPlan {
  calls: PlannedCall[];
  /** Aspects of these nights the platform cannot take as mapped (e.g. prices without a rate plan). */
  skipped: Array<{ aspect: NightAspect; reason: string }>;
}

/** A mapping to check with the platform: does this connection's account own the id? */
export interface MappingClaim {
  mappingType: "property" | "room_type" | "rate_plan";
  externalId: string;
  /** The connection's own platform property id (Booking.com hotel, Beds24 propId). */
  externalPropertyId: string;
}

/**
 * The platform's answer about a claim. Not confirmed: the platform does not know the id, or does
 * not let this account write it (the reason says which answer it gave, for the engine's logs; the
 * API never tells a caller which). A platform that cannot be reached throws a transient or
 * rate-limited PlatformError instead, and the mapping stays pending.
 */
export type MappingVerdict = { confirmed: true } | { confirmed: false; reason: string };

/** Pushing availability and prices: every platform the engine writes to has it. */
export interface PushCapability {
  /** Most nights one availability call may carry. */
  readonly maxNightsPerCall: number;
  /**
   * Plan the fewest requests that bring these dirty nights up to date: availability for the
   * first list, prices for the second (each sorted, distinct). Availability requests come first.
   */
  planPush(
    target: PushTarget,
    dirty: { availability: NightState[]; price: NightState[] },
    now: number,
  ): PushPlan;
}

/** Validate a webhook body (already verified) and extract the hint; throws a ZodError. */
export type WebhookParser = (body: unknown) => WebhookHint;
/** Fetch the authoritative booking(s) a hint points at. */
export type BookingFetcher = (ctx: AdapterContext, hint: WebhookHint) => Promise<PulledBookings>;
/** Tell the platform which bookings are stored (only those; the rest are offered again). */
export type Acknowledger = (
  ctx: AdapterContext,
  acknowledgement: unknown,
  stored: string[],
) => Promise<void>;
/** Ask the platform whether the connection's account owns and may write this id. */
export type MappingVerifier = (ctx: AdapterContext, claim: MappingClaim) => Promise<MappingVerdict>;

/**
 * One platform's calls in one object (each folder's adapter.ts): push, and the inbound calls the
 * platform has.
 */
export interface PlatformAdapter extends PushCapability {
  readonly platform: Platform;
  /** Header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
  readonly signatureHeader?: string;
  parseWebhook?: WebhookParser;
  fetchBookings?: BookingFetcher;
  acknowledge?: Acknowledger;
  verifyMapping?: MappingVerifier;
}

/**
 * What `getAdapter` hands to code written before modules (the ChannelGate): every call present,
 * the ones a platform does not have failing as permanent PlatformErrors that say so.
 */
export interface GateAdapter extends PlatformAdapter {
  readonly signatureHeader: string;
  parseWebhook: WebhookParser;
  fetchBookings: BookingFetcher;
}

/** What crosses RPC back to a caller: errors as data, since RPC keeps only their message. */
export type GateResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: {
        kind: PlatformErrorKind;
        message: string;
        status?: number;
        retryAfterSeconds?: number;
        /** The gate held the call (rate limit, open circuit) until then: nothing was sent. */
        heldUntil?: number;
        /** The connection has no credentials of its own and may not borrow the Worker's. */
        missingCredentials?: true;
      };
    };

export interface PulledThroughGate {
  bookings: ChannelBooking[];
  /** Handed back to acknowledge() once the bookings are stored; null when none is needed. */
  acknowledgement: unknown;
}

export type PlatformErrorKind = "transient" | "rate_limited" | "auth" | "permanent";

/** A classified failure talking to a platform: the kind decides retry or dead letter. */
export class PlatformError extends Error {
  constructor(
    readonly platform: Platform,
    readonly kind: PlatformErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${platform}: ${message}`);
    this.name = "PlatformError";
  }
}

// ---------------------------------------------------------------------------------------------
// The module: what one platform folder declares (its index.ts), read through registry.ts

export type { MappingType };

/** The format of one kind of platform id (src/platforms/external-ids.ts checks against it). */
export interface ExternalIdRule {
  /** The rule as a sentence, e.g. "Airbnb listing ids are 1–20 digits". */
  readonly rule: string;
  /** A valid id, for the docs; null where no id can be mapped. */
  readonly example: string | null;
  /** Whether the id has the platform's format. */
  readonly test: (externalId: string) => boolean;
  /** Where the id is unique: the whole platform (default) or one connection's property. */
  readonly scope?: "connection";
}

/** Names of the Worker bindings (.dev.vars.example, wrangler secrets) a platform reads. */
export interface ConfigKeys {
  baseUrl: string;
  /** App credentials; absent for platforms where each account authorises with its own token. */
  clientId?: string;
  clientSecret?: string;
  /**
   * The Worker's app-level host refresh token: a fallback for connections without credentials of
   * their own, used only for the tenant APP_CREDENTIALS_TENANT names (connection-config.ts).
   */
  defaultRefreshToken?: string;
  /**
   * Each host account authorises with its own credentials (Airbnb, Beds24): sharing one account's
   * credentials across tenants would let one tenant write another's listings. Platforms without it
   * (Booking.com) serve every property that authorised the one provider account.
   */
  hostAccounts?: true;
  /** Absent for platforms without a webhook endpoint. */
  webhookSecret?: string;
  previousWebhookSecret?: string;
}

/** A platform's published limit: calls (Beds24: credits) per rolling window. */
export interface PublishedRateLimit {
  capacity: number;
  windowMs: number;
}

/**
 * How a webhook proves its sender: the OTA scheme (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`
 * in `header`, src/ingress/signature.ts), a shared secret sent as-is in `header`, or nothing.
 */
export type WebhookVerification =
  | { kind: "ota_hmac"; header: string }
  | { kind: "shared_secret"; header: string }
  | { kind: "none" };

/** The platform calls the engine's webhook route (/api/v1/webhooks/<id>) with hints. */
export interface InboundWebhook {
  readonly verification: WebhookVerification;
  readonly parse: WebhookParser;
}

/** Reservations are pulled (and acknowledged): a webhook is only a hint to pull them all. */
export interface PullCapability {
  /** How often the cron pulls every connection of the platform (a multiple of its minute). */
  readonly intervalMs: number;
}

/** What a sample inbound payload names, for /channel-mappings/test. */
export interface ProbedPayload {
  /** One of the probe's payloadTypes. */
  type: string;
  property: string | null;
  room: string | null;
  rate: string | null;
  /** Why the real ingress would reject the payload, if it would. */
  rejected: string | null;
}

/** Reads sample payloads of the platform (the mapping tester), without storing anything. */
export interface PayloadProbe {
  /** Every type `read` can answer, in the order the API documents them. */
  readonly payloadTypes: readonly string[];
  /** The ids a payload names; a payload of no known shape is `{ error }` saying what was expected. */
  read(payload: Record<string, unknown>): ProbedPayload | { error: string };
  /**
   * How the engine finds a booking's connection: by the platform's property id (a Booking.com
   * hotel is one connection), or by the room's mapping (an Airbnb listing stands alone, mapped on
   * whichever connection claims it).
   */
  readonly routesBy: "property" | "room";
  /** The payloads `read` knows, in words, for the API reference: "an X webhook {…} or …". */
  readonly shapes: string;
  /** A sample payload for the API reference, where the platform gives one. */
  readonly example?: Record<string, unknown>;
}

/** Serving the engine's calendar as a feed (iCal export). Declared; nothing serves one yet. */
export interface FeedCapability {
  render(input: { externalRoomId: string; nights: readonly NightState[] }): {
    contentType: string;
    body: string;
  };
}

/** Reading back what the platform holds (reconciliation). Declared; nothing reads back yet. */
export interface ReadBackCapability {
  readCalendar(
    ctx: AdapterContext,
    target: PushTarget,
    range: { from: IsoDate; to: IsoDate },
  ): Promise<NightState[]>;
  readBookings(ctx: AdapterContext, target: PushTarget): Promise<ChannelBooking[]>;
}

/**
 * One platform, declared once: who it is, how it is configured and paced, what its ids look like,
 * and the capabilities it has. Code outside src/platforms/ asks the registry for a capability
 * instead of naming a platform.
 */
export interface PlatformModule {
  readonly id: Platform;
  /** As messages show it: "Booking.com". */
  readonly displayName: string;
  /** Other names accepted for it (ids.ts lists them for input enums). */
  readonly aliases: readonly string[];
  /** Absent for platforms the engine does not talk to yet. */
  readonly config?: ConfigKeys;
  readonly rateLimit: PublishedRateLimit;
  readonly externalIds: Readonly<Record<MappingType, ExternalIdRule>>;
  /** What the platform calls each kind of id, for messages ("this listing cannot be mapped"). */
  readonly idNouns: Readonly<Record<MappingType, string>>;
  readonly webhook?: InboundWebhook;
  readonly fetchBookings?: BookingFetcher;
  readonly acknowledge?: Acknowledger;
  readonly pull?: PullCapability;
  readonly probe?: PayloadProbe;
  readonly push?: PushCapability;
  readonly verifyMapping?: MappingVerifier;
  readonly feed?: FeedCapability;
  readonly readBack?: ReadBackCapability;
}

export type CapabilityName =
  | "webhook"
  | "fetchBookings"
  | "acknowledge"
  | "pull"
  | "probe"
  | "push"
  | "verifyMapping"
  | "feed"
  | "readBack";

/** A module known to have capability K. */
export type ModuleWith<K extends CapabilityName> = PlatformModule &
  Required<Pick<PlatformModule, K>>;
