// `npm run bench`: a PMS flood of calendar changes against rate-limited sandboxes (calls and
// convergence next to their floors), booking propagation latency, and edge-ingest
// throughput/latency against a bare Worker, on a fresh local stack (engine :8807, sandbox :8808,
// bare Worker :8809, engine edge :8810).
// Progress goes to stderr; stdout carries the report (or exactly one JSON object with --json).
// Exit code 0 when the run completed, whatever the figures; non-zero only if the run broke.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureFlood, reopenAfterFlood } from "./bench/flood.mjs";
import {
  fireWebhooks,
  round,
  signedWebhookFactory,
  summarizeLoad,
  webhookSecret,
} from "./bench/ingest.mjs";
import { measurePropagation } from "./bench/propagation.mjs";
import { check, floodChecks, printReport } from "./bench/report.mjs";
import { portBusy, scanLog, startWorker, stopAll, writeEdgeOnlyConfig } from "./bench/workers.mjs";
import { ROOT, startStack, waitForHealth } from "./lib/stack.mjs";

const { values: opts } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    bookings: { type: "string", default: "200" },
    rate: { type: "string", default: "10" },
    flood: { type: "string", default: "1000" },
    "flood-seed": { type: "string", default: "1" },
    "flood-bookings": { type: "string", default: "20" },
    "flood-booking-rate": { type: "string", default: "1" },
    "skip-flood": { type: "boolean", default: false },
    "skip-propagation": { type: "boolean", default: false },
    "skip-ingest": { type: "boolean", default: false },
  },
});
const LOAD = {
  connections: Number(opts.connections),
  seconds: Number(opts.seconds),
  warmupSeconds: Number(opts.warmup),
};
const BOOKINGS = Number(opts.bookings);
// Bookings per second, open loop: far above a real agency's rate, steady rather than one burst.
const RATE = Number(opts.rate);
// Random single-date calendar changes in the flood part, and the seed of their PRNG.
const FLOOD = Number(opts.flood);
const FLOOD_SEED = Number(opts["flood-seed"]);
// Bookings sent (per second, on PROPAGATION.from) while the flood converges: a sold night must
// not queue behind it.
const FLOOD_BOOKINGS = Number(opts["flood-bookings"]);
const FLOOD_BOOKING_RATE = Number(opts["flood-booking-rate"]);
const RUN = {
  flood: !opts["skip-flood"],
  propagation: !opts["skip-propagation"],
  ingest: !opts["skip-ingest"],
};
if (
  ![...Object.values(LOAD), BOOKINGS, RATE, FLOOD].every((n) => Number.isInteger(n) && n > 0) ||
  !Number.isInteger(FLOOD_SEED) ||
  !(Number.isInteger(FLOOD_BOOKINGS) && FLOOD_BOOKINGS >= 0) ||
  !(FLOOD_BOOKING_RATE > 0)
) {
  console.error(
    "usage: bench.mjs [--json] [--seconds N] [--warmup N] [--connections N] [--bookings N] [--rate N]\n" +
      "                 [--flood N] [--flood-seed N] [--flood-bookings N] [--flood-booking-rate N]\n" +
      "                 [--skip-flood] [--skip-propagation] [--skip-ingest]",
  );
  process.exit(2);
}
const TARGETS = {
  ingestRatioMin: 0.5,
  ingestP99MsMax: 25,
  propagationP99MsMax: 3000,
  floodBookingP99MsMax: 10_000,
};
/** The bookings during the flood start this long after its last request was answered. */
const FLOOD_BOOKINGS_DELAY_MS = 3_000;
const utcDate = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const PORTS = { engine: 8807, sandbox: 8808, bare: 8809, edge: 8810 };
const EDGE_CONFIG = "wrangler.bench-edge.toml";

const progress = (msg) => console.error(msg);
let stopping = false; // set once cleanup starts: Workers exiting then are expected
const report = opts.json ? () => {} : (line = "") => console.log(line);

const BARE_DIR = join(ROOT, "bench", "bare-worker");
const version = (pkg) =>
  JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;

async function ingestRun(name, url, makeWebhook) {
  progress(`Ingest (${name}): ${LOAD.warmupSeconds} s warm-up, then ${LOAD.seconds} s measured…`);
  const { connections } = LOAD;
  await fireWebhooks(url, { connections, seconds: LOAD.warmupSeconds, makeWebhook });
  return summarizeLoad(
    await fireWebhooks(url, { connections, seconds: LOAD.seconds, makeWebhook }),
  );
}

async function main(children, tmp) {
  const busy = [];
  for (const [name, port] of Object.entries(PORTS)) if (await portBusy(port)) busy.push(name);
  if (busy.length) throw new Error(`ports in use (${busy.join(", ")}): ${Object.values(PORTS)}`);

  const logDir = join(tmp, "logs");
  progress(
    `Starting engine :${PORTS.engine}, sandbox :${PORTS.sandbox}` +
      (RUN.ingest ? `, bare :${PORTS.bare}, edge :${PORTS.edge}…` : "…"),
  );
  progress(`  state and logs in ${tmp}`);
  // The bare Worker and the engine's edge serve the ingest part only.
  const ingestWorkers = [];
  if (RUN.ingest) {
    ingestWorkers.push(
      startWorker(
        "bare",
        "bench/bare-worker/wrangler.toml",
        PORTS.bare,
        9252,
        join(tmp, "bare-state"),
        logDir,
      ),
    );
    writeEdgeOnlyConfig(EDGE_CONFIG);
    ingestWorkers.push(
      startWorker("edge", EDGE_CONFIG, PORTS.edge, 9253, join(tmp, "edge-state"), logDir),
    );
    children.push(...ingestWorkers);
  }
  const bareUrl = `http://127.0.0.1:${PORTS.bare}`;
  const edgeUrl = `http://127.0.0.1:${PORTS.edge}`;
  const stack = await startStack({
    enginePort: PORTS.engine,
    sandboxPort: PORTS.sandbox,
    persistTo: tmp,
    logDir,
    inspectorBase: 9249,
  });
  children.push(...stack.children);
  if (RUN.ingest) {
    await Promise.race([
      Promise.all([waitForHealth(bareUrl), waitForHealth(edgeUrl)]),
      new Promise((_, reject) =>
        ingestWorkers.forEach((w) =>
          w.once("exit", (code) =>
            reject(new Error(`a bench Worker exited (${code}), see ${logDir}`)),
          ),
        ),
      ),
    ]);
  }
  const crashed = new Promise((_, reject) => {
    for (const c of children) {
      c.once("exit", (code) => {
        if (!stopping) reject(new Error(`a Worker exited mid-run (${code}); see ${logDir}`));
      });
    }
  });
  crashed.catch(() => {});

  // The flood first, on a fresh stack with idle gates. It leaves nights blocked on the lake house
  // and the propagation target's rate window spent, so the nights are reopened and the window let
  // run out before the propagation part, which needs them open and the budget unspent. (It cannot
  // go after propagation: the bookings fill the nights, and blocking a booked night is a 409.)
  let flood = null;
  if (RUN.flood) {
    progress(`Flood: ${FLOOD} random calendar changes, rate limits enforced…`);
    flood = await Promise.race([
      measureFlood({
        engineUrl: stack.engineUrl,
        sandboxUrl: stack.sandboxUrl,
        count: FLOOD,
        seed: FLOOD_SEED,
        bookings: {
          count: FLOOD_BOOKINGS,
          ratePerSecond: FLOOD_BOOKING_RATE,
          delayMs: FLOOD_BOOKINGS_DELAY_MS,
          // After the nights the propagation part books (10 … 10 + N days from today, UTC).
          from: RUN.propagation ? utcDate(10 + BOOKINGS + 1) : null,
        },
        progress,
      }),
      crashed,
    ]);
    if (RUN.propagation) {
      flood.reopened_for_propagation = await Promise.race([
        reopenAfterFlood({ engineUrl: stack.engineUrl, sandboxUrl: stack.sandboxUrl, progress }),
        crashed,
      ]);
    }
  }

  // Propagation before ingest, on idle queues: the ingest load leaves a backlog the consumer works
  // through for a while, which would otherwise sit in front of the bookings.
  let propagation = null;
  if (RUN.propagation) {
    progress(`Propagation: ${BOOKINGS} bookings at ${RATE}/s…`);
    propagation = await Promise.race([
      measurePropagation({
        sandboxUrl: stack.sandboxUrl,
        count: BOOKINGS,
        ratePerSecond: RATE,
        progress,
      }),
      crashed,
    ]);
  }

  let ingest = null;
  const checks = [];
  const targets = {};
  if (flood) {
    checks.push(...floodChecks(flood, TARGETS));
    targets.flood = Object.fromEntries(
      Object.entries(flood.platforms).map(([p, x]) => [p, x.targets]),
    );
    const duringFlood = checks.find((c) => c.name === "booking during flood p99");
    if (duringFlood) {
      targets.flood_booking_p99_ms = { max: TARGETS.floodBookingP99MsMax, pass: duringFlood.pass };
    }
  }
  if (RUN.ingest) {
    // Bare before engine, so the engine's queue backlog never competes with the baseline.
    const makeWebhook = signedWebhookFactory(webhookSecret());
    const bodyBytes = Buffer.byteLength(makeWebhook().body);
    const bareLoad = await Promise.race([ingestRun("bare Worker", bareUrl, makeWebhook), crashed]);
    const engineLoad = await Promise.race([ingestRun("engine", edgeUrl, makeWebhook), crashed]);
    if (bareLoad.requests === 0) throw new Error("the bare Worker answered no requests");
    const ratio = round(engineLoad.rps / bareLoad.rps, 3);
    ingest = {
      load: {
        connections: LOAD.connections,
        seconds: LOAD.seconds,
        warmup_seconds: LOAD.warmupSeconds,
        body_bytes: bodyBytes,
      },
      engine: engineLoad,
      bare: bareLoad,
      ratio,
    };
    const failedRequests = engineLoad.non2xx + engineLoad.errors;
    const ingestChecks = [
      check(
        "ingest throughput ÷ bare",
        `${(ratio * 100).toFixed(1)} %`,
        `≥ ${TARGETS.ingestRatioMin * 100} %`,
        ratio >= TARGETS.ingestRatioMin,
      ),
      check(
        "ingest p99 latency",
        `${engineLoad.p99_ms} ms`,
        `≤ ${TARGETS.ingestP99MsMax} ms`,
        engineLoad.p99_ms <= TARGETS.ingestP99MsMax,
      ),
      check("ingest non-2xx + errors", failedRequests, "0", failedRequests === 0),
    ];
    checks.push(...ingestChecks);
    targets.ingest_ratio = { min: TARGETS.ingestRatioMin, pass: ingestChecks[0].pass };
    targets.ingest_p99_ms = { max: TARGETS.ingestP99MsMax, pass: ingestChecks[1].pass };
    targets.ingest_non2xx = { max: 0, pass: ingestChecks[2].pass };
  }
  if (propagation) {
    const propagationChecks = [
      check(
        "propagation p99 latency",
        propagation.p99_ms === null ? "n/a" : `${propagation.p99_ms} ms`,
        `≤ ${TARGETS.propagationP99MsMax} ms`,
        propagation.p99_ms !== null && propagation.p99_ms <= TARGETS.propagationP99MsMax,
      ),
      check(
        "propagation converged (≤ 30 s)",
        `${propagation.converged}/${propagation.bookings}`,
        `${propagation.bookings}/${propagation.bookings}`,
        propagation.converged === propagation.bookings,
      ),
    ];
    checks.push(...propagationChecks);
    targets.propagation_p99_ms = {
      max: TARGETS.propagationP99MsMax,
      pass: propagationChecks[0].pass,
    };
    targets.propagation_converged = { min: propagation.bookings, pass: propagationChecks[1].pass };
  }
  return {
    flood,
    ingest,
    propagation,
    targets,
    checks,
    runtime: {
      node: process.versions.node,
      wrangler: version("wrangler"),
      workerd: version("workerd"),
      cores: availableParallelism(),
    },
    engine_log: scanLog(join(logDir, "engine.log")),
  };
}

const children = [];
const tmp = mkdtempSync(join(tmpdir(), "channel-bench-"));
const bareStateExisted = existsSync(join(BARE_DIR, ".wrangler"));
let cleaning = null;
// Stop every Worker, drop the D1/DO state (large after the load) and keep the logs for reading.
const cleanup = () =>
  (cleaning ??= (async () => {
    stopping = true;
    await stopAll(children);
    if (!bareStateExisted) rmSync(join(BARE_DIR, ".wrangler"), { recursive: true, force: true });
    rmSync(join(ROOT, EDGE_CONFIG), { force: true });
    for (const entry of readdirSync(tmp)) {
      if (entry !== "logs") rmSync(join(tmp, entry), { recursive: true, force: true });
    }
    if (readdirSync(tmp).length === 0) rmSync(tmp, { recursive: true, force: true });
  })());

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, async () => {
    progress(`\n${sig}: stopping the Workers…`);
    await cleanup();
    process.exit(130);
  });
}

const startedAt = Date.now();
let exitCode = 0;
let result = null;
try {
  result = await main(children, tmp);
} catch (err) {
  // After a signal the Workers are gone on purpose; what fails then is not news.
  if (!stopping) progress(`bench failed: ${err?.stack ?? err}`);
  exitCode = 1;
}
await cleanup();
if (result) {
  const { checks: _checks, ...figures } = result;
  if (opts.json) console.log(JSON.stringify(figures));
  else printReport(result, { report, load: LOAD });
  progress(
    `\nEngine log: ${result.engine_log.path} (${result.engine_log.error_lines} error lines)` +
      `\nBench took ${Math.round((Date.now() - startedAt) / 1000)} s.`,
  );
}
process.exit(exitCode);
