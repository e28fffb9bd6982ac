/** Plain data exchanged with the PlatformState Durable Object over RPC. */

/**
 * A simulator's name: its URL segment (`/<name>`, `/_sandbox/<name>`) and the name of its
 * PlatformState instance. Each simulator's profile declares its own.
 */
export type PlatformName = string;

/**
 * A sellable unit of a property: a listing that is its own property (property_id = unit_id), or
 * a room of a hotel (property_id = hotel id, unit_id = room id). Each simulator says which.
 */
export interface UnitRow {
  property_id: string;
  unit_id: string;
  units: number;
  rate_plan_id: string | null;
  price: string | null;
  currency: string;
}

export interface UnitPatch {
  units?: number;
  rate_plan_id?: string;
  price?: string;
  currency?: string;
}

/** A stored calendar day; absent columns mean "never written" and fall back to the unit's values. */
export interface CalendarRow {
  date: string;
  rooms_to_sell: number | null;
  closed: number | null;
  price: string | null;
  currency: string | null;
  updated_at: number | null;
}

export interface DayPatch {
  rooms_to_sell?: number;
  closed?: boolean;
  price?: string;
  currency?: string;
}

export interface DayWrite {
  property_id: string;
  unit_id: string;
  start: string;
  /** Inclusive. */
  end: string;
  patch: DayPatch;
}

export type ReservationStatus = "confirmed" | "cancelled";
export type ReservationAction = "created" | "modified" | "cancelled";

export interface ReservationRow {
  id: string;
  property_id: string;
  unit_id: string;
  rate_plan_id: string | null;
  status: ReservationStatus;
  last_action: ReservationAction;
  start_date: string;
  /** Check-out, exclusive. */
  end_date: string;
  given_name: string | null;
  surname: string;
  guests: number;
  total: string;
  currency: string;
  created_at: number;
  /** Strictly increasing per reservation: max(now, previous + 1) ms. */
  modified_at: number;
  /** Revision handed out by the last pull (platforms whose clients pull reservations). */
  served_at: number | null;
  /** Revision acknowledged by the client (platforms whose clients pull reservations). */
  acked_at: number | null;
}

export interface NewReservation {
  id: string;
  property_id: string;
  unit_id: string;
  rate_plan_id: string | null;
  start_date: string;
  end_date: string;
  given_name: string | null;
  surname: string;
  guests: number;
  /** Null: priced from the calendar. */
  total: string | null;
  currency: string | null;
}

export interface ReservationChange {
  start_date?: string;
  end_date?: string;
  guests?: number;
  total?: string;
}

/**
 * How a booking touches the platform's own calendar. `listing`: one unit whose booked nights
 * read unavailable (derived from reservations on read, never stored). `rooms`: rooms to sell per
 * night, lowered by one per booked night and given back on cancellation. Each profile declares
 * its model.
 */
export type InventoryModel = "listing" | "rooms";

export type ReservationResult =
  | { ok: true; reservation: ReservationRow; calendar_open: boolean }
  | { ok: false; status: 400 | 404 | 409; error: string; message: string };

export interface Faults {
  latency_ms: number;
  fail_next: number;
  fail_status: number;
  rate_limit_next: number;
  retry_after: number;
  timeout_next: number;
  /** How long a timeout_next call hangs before its 504 (extension; default 20 s). */
  timeout_ms: number;
  fail_rate: number;
  /** When set, the faults above answer only calls whose path contains it (e.g. one endpoint). */
  fault_path: string;
  duplicate_webhooks: boolean;
  reorder_webhooks: boolean;
  enforce_rate_limit: boolean;
}

export const DEFAULT_FAULTS: Faults = {
  latency_ms: 0,
  fail_next: 0,
  fail_status: 503,
  rate_limit_next: 0,
  retry_after: 1,
  timeout_next: 0,
  timeout_ms: 20_000,
  fail_rate: 0,
  fault_path: "",
  duplicate_webhooks: false,
  reorder_webhooks: false,
  enforce_rate_limit: false,
};

export interface RateWindow {
  bucket: string;
  limit: number;
  windowMs: number;
}

export type GateOutcome =
  | { type: "ok"; client_id: string }
  | {
      type: "fault";
      fault: "timeout" | "fail_next" | "rate_limit_next" | "fail_rate";
      status: number;
      retry_after?: number;
      hang_ms?: number;
    }
  | { type: "unauthorized" }
  | { type: "rate_limited"; retry_after: number };

export interface GateDecision {
  latency_ms: number;
  outcome: GateOutcome;
}

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  idempotency_key: string | null;
  fault: string | null;
}

/** The raw body of one platform call, with how it was answered. */
export interface NewReceivedBody {
  at: number;
  method: string;
  path: string;
  content_type: string | null;
  body: string;
  status: number;
  /** The injected fault or enforced limit that answered, or null. */
  fault: string | null;
  idempotency_key: string | null;
}

export interface ReceivedBody extends NewReceivedBody {
  /** Increasing; `?after=<id>` pages on from it. */
  id: number;
}

/** `after`: entries with a larger id, oldest first; null: the newest `limit`, oldest first. */
export interface ReceivedQuery {
  after: number | null;
  limit: number;
}

export interface HeldDelivery {
  url: string;
  body: string;
}

export type IdempotentResult =
  { kind: "replay"; status: number; body: string } | { kind: "mismatch" } | { kind: "fresh" };
