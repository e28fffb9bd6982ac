import { DurableObject } from "cloudflare:workers";
import { engineConfig } from "../../src/config";
import type {
  MappingClaim,
  MappingVerdict,
  PulledThroughGate,
  WebhookHint,
} from "../../src/platforms/contract";
import { GateCalls } from "./calls";
import { GateConnection } from "./connection";
import { GateFlush } from "./flush";
import type { GateAnswer } from "./held";
import { GateJobs } from "./jobs";
import { GateLimits } from "./limits";
import { PendingNights, type MarkDirtyInput } from "./pending";
import { PushedNights } from "./pushed";
import { FLUSH, FlushSchedule } from "./schedule";
import { gateStatus, type GateStatus } from "./status";
import { GateStorage } from "./storage";
import { GateSyncLog } from "./sync-log";
import { GateTokenStore } from "./tokens";

export type { GateStatus } from "./status";
export type { MarkDirtyInput } from "./pending";

/**
 * One ChannelGate per channel connection (platform × property). Every call to the platform for
 * that connection leaves from here — pushes, booking fetches, acknowledgements, token refreshes —
 * so the rate limiter, the circuit breaker and the tokens are exact without any coordination
 * (the tokens of an account several connections share are its TokenBroker's: tokens.ts).
 *
 * This class only composes the parts and exposes the RPC surface. Each part owns its tables in
 * this object's SQLite storage, with a versioned migration (storage.ts), so all state survives
 * eviction; one alarm drives the jobs table (jobs.ts), whose one job today is the flush.
 */
export class ChannelGate extends DurableObject<Env> {
  /** Injected clock: tests and the bench replace it. */
  clock: () => number = () => Date.now();
  /** Injected D1: tests put a metered or failing binding here; every part reads D1 through it. */
  d1: D1Database | null = null;
  readonly tokens: GateTokenStore;
  private readonly storage: GateStorage;
  private readonly jobs: GateJobs;
  private readonly pending: PendingNights;
  private readonly connection: GateConnection;
  private readonly schedule: FlushSchedule;
  private readonly flush: GateFlush;
  private readonly calls: GateCalls;
  private readonly limits: GateLimits;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Read through the object on every use: tests replace `clock` and `d1`.
    const clock = () => this.clock();
    const envNow = (): Env => (this.d1 ? { ...this.env, DB: this.d1 } : this.env);
    const storage = (this.storage = new GateStorage(ctx.storage));
    const jobs = (this.jobs = new GateJobs(storage, ctx.storage, clock));
    const pending = (this.pending = new PendingNights(storage));
    const pushed = new PushedNights(storage);
    const limits = (this.limits = new GateLimits(storage, () => envNow().DB, clock));
    const syncs = new GateSyncLog(storage, envNow, clock);
    const tokens = (this.tokens = new GateTokenStore(storage, env, clock));
    const connection = (this.connection = new GateConnection(storage, envNow, clock));
    const schedule = (this.schedule = new FlushSchedule({
      storage,
      jobs,
      pending,
      limits,
      connection,
      clock,
    }));
    const calls = { env: envNow, clock, connection, limits, tokens };
    this.calls = new GateCalls(calls);
    this.flush = new GateFlush({ ...calls, storage, jobs, schedule, pending, pushed, syncs });
    jobs.register(FLUSH, (attempts) => this.flush.run(attempts));
  }

  /** Record pending nights (idempotent) and make sure a flush is due. */
  async markDirty(input: MarkDirtyInput): Promise<{ pendingNights: number }> {
    this.storage.bind(input.tenantId, input.connectionId);
    const now = this.clock();
    const marked = this.pending.mark(input, now, engineConfig(this.env).syncHorizonDays);
    if (marked > 0) {
      // The connection's own coalescing window, read once; every flush refreshes it.
      if (this.connection.cachedSettings() === null)
        await this.connection.load(input.tenantId, input.connectionId);
      this.pending.noteMarked(now);
      // A running flush schedules the next one itself when it ends.
      if (!this.flush.running) await this.schedule.schedule(now);
    }
    return { pendingNights: this.pending.count() };
  }

  override async alarm(): Promise<void> {
    await this.jobs.runDue();
  }

  /** Push now instead of waiting for the coalescing window (admin "sync now", tests). */
  async flushNow(): Promise<GateStatus> {
    try {
      await this.flush.run(this.jobs.get(FLUSH)?.attempts ?? 0);
    } finally {
      // Also after an error: a job the flush (or a mark during it) left must have its alarm.
      await this.jobs.arm();
    }
    return this.status();
  }

  async status(): Promise<GateStatus> {
    const { storage, jobs, pending, limits, connection, tokens } = this;
    const clock = () => this.clock();
    return gateStatus({ storage, jobs, pending, limits, connection, tokens, clock });
  }

  /** Fetch the authoritative booking(s) a webhook or pull points at, through the limiter. */
  pullBookings(input: {
    tenantId: string;
    connectionId: string;
    hint: WebhookHint;
  }): Promise<GateAnswer<PulledThroughGate>> {
    return this.calls.pullBookings(input);
  }

  /** Tell the platform which pulled bookings are stored (Booking.com acknowledgement). */
  acknowledge(input: {
    tenantId: string;
    connectionId: string;
    acknowledgement: unknown;
    stored: string[];
  }): Promise<GateAnswer<null>> {
    return this.calls.acknowledge(input);
  }

  /**
   * Ask the platform, with this connection's own credentials and through its limits, whether the
   * connection's account owns and may write this id (a mapping being created or confirmed).
   */
  verifyMapping(input: {
    tenantId: string;
    connectionId: string;
    claim: Omit<MappingClaim, "externalPropertyId">;
  }): Promise<GateAnswer<MappingVerdict>> {
    return this.calls.verifyMapping(input);
  }
}
