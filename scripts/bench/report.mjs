// The bench's report: the figures as text, and the checks of each figure against its target.
import { FLOOD_TARGETS } from "./flood.mjs";
import { WEBHOOK_PATH } from "./ingest.mjs";
import { LABEL, PROPAGATION } from "./platforms/index.mjs";

export function check(name, measured, target, pass) {
  return { name, measured, target, pass };
}

const FROM = PROPAGATION.from.label;
const TO = PROPAGATION.to.label;
export const s1 = (ms) => (ms === null ? "—" : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);
const metNot = (pass) => (pass ? "met" : "NOT MET");

function printFlood(f, report) {
  const pad = (v, n) => String(v).padStart(n);
  report(
    `\nFlood — ${f.changes} random single-date changes (${f.changes_by_aspect.availability} availability, ` +
      `${f.changes_by_aspect.price} price) on ${f.property}, ${f.window.start} … ${f.window.end} ` +
      `(${f.time_zone}), seed ${f.seed}; ${f.requests} PUT /calendar requests of ≤ ${f.nights_per_request_max} ` +
      `nights fired at once; sandboxes enforce the published limits`,
  );
  report(
    `  flood (first request sent → last answered, t0): ${f.flood_ms} ms` +
      (f.failed_requests.length ? `   FAILED requests: ${f.failed_requests.length}` : ""),
  );
  report(
    `  distinct dates touched: availability ${f.dates_touched.availability}, price ${f.dates_touched.price}; ` +
      `changed (final ≠ before): availability ${f.dates_changed.availability}, price ${f.dates_changed.price}`,
  );
  report(
    `  ${"".padEnd(13)}${pad("calls", 6)}${pad("min", 6)}${pad("÷ min", 8)}  ` +
      `${`≤ ${FLOOD_TARGETS.callsRatioMax}?`.padEnd(9)}${pad("converged", 10)}${pad("floor", 9)}` +
      `${pad("÷ floor", 9)}  ${`≤ ${FLOOD_TARGETS.convergenceRatioMax}?`.padEnd(9)}${pad("429s", 4)}  0?`,
  );
  for (const [p, x] of Object.entries(f.platforms)) {
    report(
      `  ${LABEL[p].padEnd(13)}${pad(x.calls, 6)}${pad(x.minimum_calls.total, 6)}${pad(x.calls_ratio ?? "n/a", 8)}  ` +
        `${metNot(x.targets.calls_ratio.pass).padEnd(9)}` +
        `${pad(x.converged ? s1(x.convergence_ms) : "NO", 10)}${pad(s1(x.floor_ms), 9)}` +
        `${pad(x.convergence_ratio ?? "n/a", 9)}  ${metNot(x.targets.convergence_ratio.pass).padEnd(9)}` +
        `${pad(x.rate_limited, 4)}  ${metNot(x.targets.rate_limited.pass)}`,
    );
  }
  for (const [p, x] of Object.entries(f.platforms)) {
    const by = Object.entries(x.calls_by_endpoint)
      .map(([k, n]) => `${n} ${k}`)
      .join(" + ");
    report(
      `  ${LABEL[p]}: calls ${by || "none"} (${x.calls_accepted} accepted, ${x.calls_before_t0} before t0, ` +
        `last ${s1(x.last_call_ms)} after t0); minimum ${x.minimum_calls.availability} availability + ` +
        `${x.minimum_calls.price} price; floor = one change alone ${s1(x.baseline_ms)} + ` +
        `${x.minimum_calls.total - 1} more call(s)` +
        `${x.rate_limit.cost_per_call ? ` × ${x.rate_limit.cost_per_call} credits` : ""} × ${x.rate_limit.window_ms / 1000} s ÷ ` +
        `${x.rate_limit.capacity} (the limit alone: ${s1(x.rate_limit_floor_ms)} for all); last write ${s1(x.last_write_ms)} after t0; token calls ${x.token_calls}, ` +
        `other calls ${x.other_calls}` +
        (x.hotel_codes_in_bodies
          ? `; OTA bodies by HotelCode ${JSON.stringify(x.hotel_codes_in_bodies)}`
          : "") +
        (x.converged ? "" : `; ${x.dates_not_matching} date(s) never matched`) +
        (x.request_log_truncated ? "; REQUEST LOG TRUNCATED (counts are a lower bound)" : ""),
    );
  }
  const b = f.bookings_during_flood;
  if (b) {
    report(
      `  bookings during the flood — ${b.bookings} ${FROM} one-night bookings ${b.window.start} … ` +
        `${b.window.end} at ${b.rate_per_s}/s from t0 + ${f.bookings_delay_ms / 1000} s, webhook sent → ` +
        `night closed on ${TO}: converged ${b.converged}/${b.bookings}   p50 ${b.p50_ms} ms   ` +
        `p99 ${b.p99_ms} ms   max ${b.max_ms} ms; their own calls (not in the flood's): ` +
        Object.entries(f.platforms)
          .map(([p, x]) => `${LABEL[p]} ${x.booking_calls}`)
          .join(", "),
    );
    for (const x of b.failures) report(`  booking not converged: ${x.date} — ${x.reason}`);
  }
  for (const failure of f.failed_requests.slice(0, 5)) report(`  failed request: ${failure}`);
  if (f.reopened_for_propagation) {
    const r = f.reopened_for_propagation;
    report(
      `  then: ${r.reopened_nights} nights unblocked for the propagation part, ${r.seconds} s ` +
        `until open on both sandboxes and the ${TO} rate window clear`,
    );
  }
  if (!f.truth_stable) report("  WARNING: the engine's calendar changed after the flood was read");
  if (!f.gates_idle_after) report("  WARNING: the gates still held pending nights at the end");
}

/** The report on stdout (`report` prints one line). */
export function printReport(r, { report, load: LOAD }) {
  const pad = (v, n) => String(v).padStart(n);
  if (r.flood) printFlood(r.flood, report);
  if (r.ingest) {
    const { engine, bare } = r.ingest;
    const row = (name, s) =>
      `  ${name.padEnd(12)}${pad(s.rps, 10)}${pad(s.p50_ms, 9)}${pad(s.p99_ms, 9)}` +
      `${pad(s.requests, 10)}${pad(s.non2xx, 9)}${pad(s.errors, 8)}`;
    report(
      `\nEdge ingest (engine edge path, consumers detached; see README) — POST ${WEBHOOK_PATH}, signed, ${r.ingest.load.body_bytes}-byte body, ` +
        `${LOAD.connections} connections, ${LOAD.seconds} s after ${LOAD.warmupSeconds} s warm-up`,
    );
    report(
      `  ${"".padEnd(12)}${pad("req/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}` +
        `${pad("requests", 10)}${pad("non-2xx", 9)}${pad("errors", 8)}`,
    );
    report(row("engine", engine));
    report(row("bare Worker", bare));
    report(`  engine ÷ bare throughput: ${(r.ingest.ratio * 100).toFixed(1)} %`);
  }

  const p = r.propagation;
  if (p) {
    report(
      `\nPropagation — ${FROM} webhook sent (and accepted, 202) → night closed on ${TO} ` +
        `(${p.bookings} one-night bookings ${p.window.start} … ${p.window.end}, open loop at ${p.rate_per_s} bookings/s)`,
    );
    report(
      `  converged ${p.converged}/${p.bookings}   p50 ${p.p50_ms} ms   p99 ${p.p99_ms} ms   ` +
        `max ${p.max_ms} ms   (min ${p.min_ms} ms, ${p.elapsed_s} s in all)`,
    );
    for (const f of p.failures) report(`  not converged: ${f.date} — ${f.reason}`);
  }

  report("\nSummary");
  report(`  ${"figure".padEnd(38)}${"measured".padEnd(16)}${"target".padEnd(14)}result`);
  for (const c of r.checks) {
    report(
      `  ${c.name.padEnd(38)}${String(c.measured).padEnd(16)}${c.target.padEnd(14)}` +
        `${c.pass ? "PASS" : "FAIL"}`,
    );
  }
  const log = r.engine_log;
  report(
    `\nEngine log: ${log.error_lines} error / ${log.warn_lines} warning lines (${log.path})` +
      `\nRuntime: Node ${r.runtime.node}, wrangler ${r.runtime.wrangler}, ` +
      `workerd ${r.runtime.workerd}, ${r.runtime.cores} cores`,
  );
}

export function floodChecks(flood, TARGETS) {
  const out = [];
  for (const [p, x] of Object.entries(flood.platforms)) {
    out.push(
      check(
        `flood ${LABEL[p]} calls ÷ minimum`,
        `${x.calls} ÷ ${x.minimum_calls.total} = ${x.calls_ratio ?? "n/a"}`,
        `≤ ${FLOOD_TARGETS.callsRatioMax}`,
        x.targets.calls_ratio.pass,
      ),
      check(
        `flood ${LABEL[p]} convergence ÷ floor`,
        x.converged ? `${x.convergence_ratio ?? "n/a"} (${s1(x.convergence_ms)})` : "not converged",
        `≤ ${FLOOD_TARGETS.convergenceRatioMax}`,
        x.targets.convergence_ratio.pass,
      ),
      check(`flood ${LABEL[p]} 429 answers`, x.rate_limited, "0", x.targets.rate_limited.pass),
    );
  }
  const b = flood.bookings_during_flood;
  if (b) {
    out.push(
      check(
        "booking during flood p99",
        b.p99_ms === null ? "n/a" : `${b.p99_ms} ms`,
        `≤ ${TARGETS.floodBookingP99MsMax} ms`,
        b.p99_ms !== null && b.converged === b.bookings && b.p99_ms <= TARGETS.floodBookingP99MsMax,
      ),
    );
  }
  return out;
}
