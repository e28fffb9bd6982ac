/** SQLite schema of one platform's state. Idempotent: runs in every PlatformState constructor. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS units (
  property_id TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  units INTEGER NOT NULL DEFAULT 1,
  rate_plan_id TEXT,
  price TEXT,
  currency TEXT NOT NULL DEFAULT 'EUR',
  PRIMARY KEY (property_id, unit_id)
);
CREATE TABLE IF NOT EXISTS calendar (
  property_id TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  date TEXT NOT NULL,
  rooms_to_sell INTEGER,
  closed INTEGER,
  price TEXT,
  currency TEXT,
  updated_at INTEGER,
  PRIMARY KEY (property_id, unit_id, date)
);
CREATE TABLE IF NOT EXISTS reservations (
  id TEXT PRIMARY KEY,
  property_id TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  rate_plan_id TEXT,
  status TEXT NOT NULL,
  last_action TEXT NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NOT NULL,
  given_name TEXT,
  surname TEXT NOT NULL,
  guests INTEGER NOT NULL,
  total TEXT NOT NULL,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  served_at INTEGER,
  acked_at INTEGER
);
CREATE INDEX IF NOT EXISTS reservations_by_unit ON reservations (property_id, unit_id);
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
  bucket TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hits_by_bucket ON hits (bucket, at);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  query TEXT NOT NULL,
  status INTEGER NOT NULL,
  idempotency_key TEXT,
  fault TEXT
);
CREATE TABLE IF NOT EXISTS received_bodies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  content_type TEXT,
  body TEXT NOT NULL,
  status INTEGER NOT NULL,
  fault TEXT,
  idempotency_key TEXT
);
-- The body log before it kept statuses; logs are disposable, so an old local copy is dropped.
DROP TABLE IF EXISTS received;
CREATE TABLE IF NOT EXISTS held (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  request_body TEXT NOT NULL,
  status INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invite_codes (
  code TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token TEXT PRIMARY KEY,
  account TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credits (
  account TEXT NOT NULL,
  at INTEGER NOT NULL,
  tenths INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS credits_by_account ON credits (account, at);
-- Who a property belongs to (a host or owner account) and whether the channel may write it
-- (a hotel's authorisation). A property with units but no row is the default
-- account's and authorised: what the control API creates unless told otherwise.
CREATE TABLE IF NOT EXISTS properties (
  property_id TEXT PRIMARY KEY,
  account TEXT NOT NULL DEFAULT 'default',
  authorised INTEGER NOT NULL DEFAULT 1
);
`;

export const TABLES = [
  "units",
  "calendar",
  "reservations",
  "tokens",
  "hits",
  "settings",
  "requests",
  "received_bodies",
  "held",
  "idempotency",
  "invite_codes",
  "refresh_tokens",
  "credits",
  "properties",
] as const;

/** The request log is bounded: enough to inspect a test run without growing without limit. */
export const REQUEST_LOG_SIZE = 500;
/**
 * Received bodies are kept until reset, so everything a client ever sent can be validated
 * afterwards; the cap only keeps a runaway client from filling the Durable Object's storage.
 */
export const RECEIVED_LOG_SIZE = 100_000;
/** Idempotency keys are remembered for a day, like most APIs that honour them. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
