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
