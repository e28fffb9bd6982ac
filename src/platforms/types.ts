import type { Platform } from "../db/channels.schema";
import type { IsoDate } from "../domain/dates";

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

export interface AdapterContext {
  baseUrl: string;
  credentials: PlatformCredentials;
  fetch: typeof fetch;
  now: () => number;
  /** Sent as Idempotency-Key where the platform honours one. */
  idempotencyKey?: string;
}

export interface PulledBookings {
  bookings: ChannelBooking[];
  /**
   * Tell the platform these bookings are stored (Booking.com pull acknowledgement). Called only
   * after D1 commits, with just the ones stored: an unacknowledged booking is offered again.
   */
  acknowledge?: (channelBookingIds: string[]) => Promise<void>;
}

export interface PushResult {
  calls: number;
  nights: number;
}

export interface PlatformAdapter {
  readonly platform: Platform;
  /** Header that carries `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
  readonly signatureHeader: string;
  /** Validate a webhook body (already signature-checked) and extract the hint; throws a ZodError. */
  parseWebhook(body: unknown): WebhookHint;
  /** Fetch the authoritative booking(s) the hint points at. */
  fetchBookings(ctx: AdapterContext, hint: WebhookHint): Promise<PulledBookings>;
  /** Most nights one availability call may carry. */
  readonly maxNightsPerCall: number;
  /** Push the current state of these nights (sorted, distinct). */
  pushAvailability(
    ctx: AdapterContext,
    target: PushTarget,
    nights: NightState[],
  ): Promise<PushResult>;
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
