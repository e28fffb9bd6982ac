import { and, eq, lt, sql } from "drizzle-orm";
import { orm } from "./db";
import { jobLeases as l } from "./schema/events.schema";

/**
 * job_leases: a job runs only while it holds its row. Taking it is one compare-and-swap statement
 * (INSERT ... ON CONFLICT DO UPDATE ... WHERE lease_until < now), checked through meta.changes.
 */

/** Take lease `name` for `holder` until now + ttl, if it is free or ran out; true when taken. */
export async function takeLease(
  db: D1Database,
  name: string,
  holder: string,
  until: number,
  now: number,
): Promise<boolean> {
  const result = await orm(db)
    .insert(l)
    .values({ name, holder, leaseUntil: until })
    .onConflictDoUpdate({
      target: l.name,
      set: { holder: sql`excluded.holder`, leaseUntil: sql`excluded.lease_until` },
      setWhere: lt(l.leaseUntil, now),
    })
    .run();
  return result.meta.changes === 1;
}

/** Give the lease back (only if still `holder`'s), recording when the job ran and how it ended. */
export async function releaseLeaseRow(
  db: D1Database,
  name: string,
  holder: string,
  now: number,
  lastResult: string,
): Promise<boolean> {
  const result = await orm(db)
    .update(l)
    .set({ leaseUntil: 0, lastRunAt: now, lastResult })
    .where(and(eq(l.name, name), eq(l.holder, holder)))
    .run();
  return result.meta.changes === 1;
}

/** Extend `holder`'s lease to `until`; false when it is no longer theirs. */
export async function renewLease(
  db: D1Database,
  name: string,
  holder: string,
  until: number,
): Promise<boolean> {
  const result = await orm(db)
    .update(l)
    .set({ leaseUntil: until })
    .where(and(eq(l.name, name), eq(l.holder, holder)))
    .run();
  return result.meta.changes === 1;
}

/** The lease's row: who holds it and how its last run ended. */
export function leaseRow(
  db: D1Database,
  name: string,
): Promise<Pick<typeof l.$inferSelect, "holder" | "lastResult"> | undefined> {
  return orm(db)
    .select({ holder: l.holder, lastResult: l.lastResult })
    .from(l)
    .where(eq(l.name, name))
    .get();
}
