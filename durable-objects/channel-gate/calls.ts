import { connectionConfig, MissingCredentialsError } from "../../src/services/connections";
import type { GateSettings } from "../../src/domain/gate-settings";
import type { Priority } from "../../src/domain/rate-limiter";
import { getAdapter } from "../../src/platforms/registry";
import {
  PlatformError,
  type AdapterContext,
  type MappingClaim,
  type MappingVerdict,
  type PulledThroughGate,
  type WebhookHint,
} from "../../src/platforms/contract";
import {
  credentialsRefusal,
  type Connection,
  type ConnectionConfig,
  type GateConnection,
} from "./connection";
import { gatedFetch } from "./gated-fetch";
import { GateHeldError, type GateAnswer } from "./held";
import type { GateLimits } from "./limits";
import type { GateTokenStore } from "./tokens";

export interface CallParts {
  env: () => Env;
  clock: () => number;
  connection: GateConnection;
  limits: GateLimits;
  tokens: GateTokenStore;
}

/** What an adapter call of this connection runs with: its credentials, the gated fetch, tokens. */
export function adapterContext(
  parts: CallParts,
  c: { connection: Connection; settings: GateSettings; priority: Priority },
  config: ConnectionConfig,
  idempotencyKey?: string,
): AdapterContext {
  return {
    baseUrl: config.baseUrl,
    credentials: config.credentials,
    fetch: gatedFetch({ ...c, limits: parts.limits, clock: parts.clock }),
    now: () => parts.clock(),
    tokens: parts.tokens,
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
}

type Call = { tenantId: string; connectionId: string };

/**
 * The inbound calls callers make through the gate (RPC from the inbound consumer and the mapping
 * check): each runs one adapter call at inbound priority, and answers errors as data.
 */
export class GateCalls {
  constructor(private readonly parts: CallParts) {}

  /** Fetch the authoritative booking(s) a webhook or pull points at, through the limiter. */
  pullBookings(input: Call & { hint: WebhookHint }): Promise<GateAnswer<PulledThroughGate>> {
    return this.run(input, async (ctx, connection) => {
      const adapter = getAdapter(connection.platform);
      if (!adapter) {
        throw new PlatformError(connection.platform, "permanent", "no adapter for this platform");
      }
      // A platform that only takes pushes has nothing to fetch (the registry says which).
      if (!adapter.fetchBookings) {
        throw new PlatformError(
          connection.platform,
          "permanent",
          "no booking fetch for this platform",
        );
      }
      const pulled = await adapter.fetchBookings(ctx, input.hint);
      return { bookings: pulled.bookings, acknowledgement: pulled.acknowledgement ?? null };
    });
  }

  /** Tell the platform which pulled bookings are stored (Booking.com acknowledgement). */
  acknowledge(
    input: Call & { acknowledgement: unknown; stored: string[] },
  ): Promise<GateAnswer<null>> {
    return this.run(input, async (ctx, connection) => {
      const adapter = getAdapter(connection.platform);
      if (adapter?.acknowledge && input.acknowledgement !== null) {
        await adapter.acknowledge(ctx, input.acknowledgement, input.stored);
      }
      return null;
    });
  }

  /** Whether the connection's account owns and may write this id, asked with its credentials. */
  verifyMapping(
    input: Call & { claim: Omit<MappingClaim, "externalPropertyId"> },
  ): Promise<GateAnswer<MappingVerdict>> {
    return this.run(input, async (ctx, connection) => {
      const verify = getAdapter(connection.platform)?.verifyMapping;
      if (!verify) {
        throw new PlatformError(
          connection.platform,
          "permanent",
          "no mapping check for this platform",
        );
      }
      return verify(ctx, { ...input.claim, externalPropertyId: connection.externalPropertyId });
    });
  }

  private async run<T>(
    input: Call,
    call: (ctx: AdapterContext, connection: Connection) => Promise<T>,
  ): Promise<GateAnswer<T>> {
    try {
      const loaded = await this.parts.connection.load(input.tenantId, input.connectionId);
      if (!loaded) {
        return {
          ok: false,
          error: { kind: "permanent", message: `connection ${input.connectionId} not found` },
        };
      }
      const { connection, settings } = loaded;
      const config = await connectionConfig(this.parts.env(), connection);
      const ctx = adapterContext(this.parts, { connection, settings, priority: "inbound" }, config);
      try {
        return { ok: true, value: await call(ctx, connection) };
      } catch (err) {
        if (credentialsRefusal(err))
          await this.parts.connection.credentialsRefused(connection, err);
        throw err;
      }
    } catch (err) {
      if (err instanceof GateHeldError) return { ok: false, error: err.failure() };
      if (err instanceof PlatformError) return { ok: false, error: failureOf(err) };
      throw err;
    }
  }
}

/** A classified failure as data (RPC keeps only an error's message). */
function failureOf(err: PlatformError): Extract<GateAnswer<never>, { ok: false }>["error"] {
  return {
    kind: err.kind,
    message: err.message,
    ...(err instanceof MissingCredentialsError ? { missingCredentials: true } : {}),
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
  };
}
