import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema/schema";

/**
 * The one way to D1 rows: Drizzle over the binding (or a metered copy of it, see d1-meter.ts),
 * typed by the schema in `schema/`. Building it is cheap, so each store function takes the plain
 * `D1Database` and wraps it here rather than callers passing a second handle around.
 */
export type Db = DrizzleD1Database<typeof schema>;

export function orm(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/**
 * The one bridge from a Drizzle query builder to a D1 statement, for a caller's raw `db.batch([...])`:
 * those batches also carry the ledger's raw statements (alertStatement, the compare-and-swap
 * transitions), which Drizzle's own batch cannot take. The builder's SQL text and its parameters go
 * to D1 unchanged.
 */
export function d1Statement(
  db: D1Database,
  query: { toSQL(): { sql: string; params: unknown[] } },
): D1PreparedStatement {
  const { sql: text, params } = query.toSQL();
  return db.prepare(text).bind(...params);
}
