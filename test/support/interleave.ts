/**
 * A D1 binding that runs `before` ahead of its k-th call (1-based; `run`/`all`/`first`/`raw` of a
 * statement, or a `batch`), once. A Durable Object's input gate is open while it awaits D1, so
 * any RPC may run there: wrapping the binding an object uses lets a test put, say, a markDirty
 * at exactly that await and prove what the object does about it. With `fail`, that call then
 * throws instead of reaching D1 (D1 unavailable).
 */
export interface Interleaved {
  db: D1Database;
  /** D1 calls made so far. */
  calls(): number;
  /** Whether `before` ran (the work made at least k calls). */
  fired(): boolean;
}

export function interleavedD1(
  db: D1Database,
  k: number,
  before: () => Promise<void>,
  { fail = false }: { fail?: boolean } = {},
): Interleaved {
  let calls = 0;
  let fired = false;
  const originals = new WeakMap<object, D1PreparedStatement>();
  const turn = async () => {
    calls += 1;
    if (calls === k && !fired) {
      fired = true;
      await before();
      if (fail) throw new Error("D1_ERROR: injected: D1 is unavailable");
    }
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, prop, receiver) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return async (...args: unknown[]) => {
            await turn();
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(wrapped, statement);
    return wrapped;
  };
  const wrappedDb = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await turn();
          // D1 takes only its own statement objects.
          return target.batch(statements.map((s) => originals.get(s) ?? s));
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrappedDb, calls: () => calls, fired: () => fired };
}
