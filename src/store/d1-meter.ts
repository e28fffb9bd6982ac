/**
 * Counts the D1 calls a piece of work makes. Cloudflare allows 1,000 D1 calls (subrequests) per
 * Worker invocation and local workerd enforces none, so the inbound consumer meters each message
 * against its share of the invocation's budget (and tests read the count of the largest case).
 * One `run`/`all`/`first`/`raw` or one `batch` is one call, however many statements it carries.
 */

export interface D1Meter {
  calls: number;
  statements: number;
}

export function newMeter(): D1Meter {
  return { calls: 0, statements: 0 };
}

const originals = new WeakMap<object, D1PreparedStatement>();

function meterStatement(statement: D1PreparedStatement, meter: D1Meter): D1PreparedStatement {
  const wrapped = new Proxy(statement, {
    get(target, prop, receiver) {
      if (prop === "bind") {
        return (...values: unknown[]) => meterStatement(target.bind(...values), meter);
      }
      if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
        return (...args: unknown[]) => {
          meter.calls += 1;
          meter.statements += 1;
          return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  originals.set(wrapped, statement);
  return wrapped;
}

/** The same database, every call counted into `meter`. */
export function meteredD1(db: D1Database, meter: D1Meter): D1Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "prepare") {
        return (sql: string) => meterStatement(target.prepare(sql), meter);
      }
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          meter.calls += 1;
          meter.statements += statements.length;
          // D1 takes only its own statement objects.
          return target.batch(statements.map((s) => originals.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return (sql: string) => {
          meter.calls += 1;
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
