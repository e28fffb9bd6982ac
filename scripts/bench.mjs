// `npm run bench`: edge-ingest throughput/latency against a bare Worker, and booking propagation
// latency, on a fresh local stack (engine :8807, sandbox :8808, bare Worker :8809).
// Progress goes to stderr; stdout carries the report (or exactly one JSON object with --json).
// Exit code 0 when the run completed, whatever the figures; non-zero only if the run broke.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  airbnbWebhookSecret,
  fireWebhooks,
  round,
  signedWebhookFactory,
  summarizeLoad,
} from "./lib/bench-ingest.mjs";
import { measurePropagation } from "./lib/bench-propagation.mjs";
import { ROOT, stackEnv, startStack, waitForHealth } from "./lib/stack.mjs";

const { values: opts } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    bookings: { type: "string", default: "200" },
    rate: { type: "string", default: "10" },
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
if (![...Object.values(LOAD), BOOKINGS, RATE].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(
    "usage: bench.mjs [--json] [--seconds N] [--warmup N] [--connections N] [--bookings N] [--rate N]",
  );
  process.exit(2);
}
const TARGETS = { ingestRatioMin: 0.5, ingestP99MsMax: 25, propagationP99MsMax: 3000 };
const PORTS = { engine: 8807, sandbox: 8808, bare: 8809, edge: 8810 };
const EDGE_CONFIG = "wrangler.bench-edge.toml";

const progress = (msg) => console.error(msg);
let stopping = false; // set once cleanup starts: Workers exiting then are expected
const report = opts.json ? () => {} : (line = "") => console.log(line);

const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const BARE_DIR = join(ROOT, "bench", "bare-worker");
const version = (pkg) =>
  JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;

/** Resolves true when something already listens on the port (it would answer in our place). */
const portBusy = (port) =>
  new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/** A Worker under `wrangler dev`, started like the stack's (own process group, log, state dir). */
function startWorker(name, config, port, inspectorPort, persistTo, logDir) {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `${name}.log`), "a");
  return spawn(
    WRANGLER,
    [
      "dev",
      "-c",
      config,
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--show-interactive-dev-session=false",
      "--persist-to",
      persistTo,
    ],
    {
      cwd: ROOT,
      env: stackEnv(persistTo),
      stdio: ["ignore", log, log],
      detached: process.platform !== "win32",
    },
  );
}

/**
 * The engine's own wrangler.toml without its queue consumers and cron: the same edge code and
 * bindings, so the ingest load measures the signed-webhook path alone. On Cloudflare consumers run
 * in their own invocations; on this 2-core machine they would take the load generator's CPU.
 */
function writeEdgeOnlyConfig() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .split(/\n(?=\[)/)
    .filter((block) => !block.startsWith("[[queues.consumers]]") && !block.startsWith("[triggers]"))
    .join("\n");
  writeFileSync(join(ROOT, EDGE_CONFIG), toml);
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM each process group (wrangler and its workerd), then SIGKILL what is left after 5 s. */
async function stopAll(children) {
  const signal = (child, sig) => {
    if (exited(child)) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  children.forEach((c) => signal(c, "SIGTERM"));
  const deadline = Date.now() + 5000;
  while (children.some((c) => !exited(c)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  children.forEach((c) => signal(c, "SIGKILL"));
}

/** Error and warning lines in a Worker's log: the engine logs JSON lines with a level. */
function scanLog(path) {
  if (!existsSync(path)) return { path, error_lines: 0, warn_lines: 0, events: {} };
  const lines = readFileSync(path, "utf8").split("\n");
  const events = {};
  let errors = 0;
  let warns = 0;
  for (const line of lines) {
    const isError = /"level":"error"|\[ERROR\]|Uncaught|✘/.test(line);
    const isWarn = /"level":"warn"/.test(line);
    if (isError) errors++;
    if (isWarn) warns++;
    if (isError || isWarn) {
      const name = /"event":"([^"]+)"/.exec(line)?.[1] ?? line.trim().slice(0, 80);
      events[name] = (events[name] ?? 0) + 1;
    }
  }
  return { path, error_lines: errors, warn_lines: warns, events };
}

async function ingestRun(name, url, makeWebhook) {
  progress(`Ingest (${name}): ${LOAD.warmupSeconds} s warm-up, then ${LOAD.seconds} s measured…`);
  const { connections } = LOAD;
  await fireWebhooks(url, { connections, seconds: LOAD.warmupSeconds, makeWebhook });
  return summarizeLoad(
    await fireWebhooks(url, { connections, seconds: LOAD.seconds, makeWebhook }),
  );
}

function check(name, measured, target, pass) {
  return { name, measured, target, pass };
}

function printReport(r) {
  const { engine, bare } = r.ingest;
  const pad = (v, n) => String(v).padStart(n);
  const row = (name, s) =>
    `  ${name.padEnd(12)}${pad(s.rps, 10)}${pad(s.p50_ms, 9)}${pad(s.p99_ms, 9)}` +
    `${pad(s.requests, 10)}${pad(s.non2xx, 9)}${pad(s.errors, 8)}`;
  report(
    `\nEdge ingest (engine edge path, consumers detached; see README) — POST /api/v1/webhooks/airbnb, signed, ${r.ingest.load.body_bytes}-byte body, ` +
      `${LOAD.connections} connections, ${LOAD.seconds} s after ${LOAD.warmupSeconds} s warm-up`,
  );
  report(
    `  ${"".padEnd(12)}${pad("req/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}` +
      `${pad("requests", 10)}${pad("non-2xx", 9)}${pad("errors", 8)}`,
  );
  report(row("engine", engine));
  report(row("bare Worker", bare));
  report(`  engine ÷ bare throughput: ${(r.ingest.ratio * 100).toFixed(1)} %`);

  const p = r.propagation;
  report(
    `\nPropagation — Airbnb webhook sent (and accepted, 202) → night closed on Booking.com ` +
      `(${p.bookings} one-night bookings ${p.window.start} … ${p.window.end}, open loop at ${p.rate_per_s} bookings/s)`,
  );
  report(
    `  converged ${p.converged}/${p.bookings}   p50 ${p.p50_ms} ms   p99 ${p.p99_ms} ms   ` +
      `max ${p.max_ms} ms   (min ${p.min_ms} ms, ${p.elapsed_s} s in all)`,
  );
  for (const f of p.failures) report(`  not converged: ${f.date} — ${f.reason}`);

  report("\nSummary");
  report(`  ${"figure".padEnd(34)}${"measured".padEnd(16)}${"target".padEnd(14)}result`);
  for (const c of r.checks) {
    report(
      `  ${c.name.padEnd(34)}${String(c.measured).padEnd(16)}${c.target.padEnd(14)}` +
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

async function main(children, tmp) {
  const busy = [];
  for (const [name, port] of Object.entries(PORTS)) if (await portBusy(port)) busy.push(name);
  if (busy.length) throw new Error(`ports in use (${busy.join(", ")}): ${Object.values(PORTS)}`);

  const logDir = join(tmp, "logs");
  progress(`Starting engine :${PORTS.engine}, sandbox :${PORTS.sandbox}, bare :${PORTS.bare}…`);
  progress(`  state and logs in ${tmp}`);
  const bare = startWorker(
    "bare",
    "bench/bare-worker/wrangler.toml",
    PORTS.bare,
    9252,
    join(tmp, "bare-state"),
    logDir,
  );
  writeEdgeOnlyConfig();
  const edge = startWorker("edge", EDGE_CONFIG, PORTS.edge, 9253, join(tmp, "edge-state"), logDir);
  children.push(bare, edge);
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
  await Promise.race([
    Promise.all([waitForHealth(bareUrl), waitForHealth(edgeUrl)]),
    new Promise((_, reject) =>
      [bare, edge].forEach((w) =>
        w.once("exit", (code) =>
          reject(new Error(`a bench Worker exited (${code}), see ${logDir}`)),
        ),
      ),
    ),
  ]);
  const crashed = new Promise((_, reject) => {
    for (const c of children) {
      c.once("exit", (code) => {
        if (!stopping) reject(new Error(`a Worker exited mid-run (${code}); see ${logDir}`));
      });
    }
  });
  crashed.catch(() => {});

  // Propagation first, on idle queues: the ingest load leaves a backlog the consumer works through
  // for a while, which would otherwise sit in front of the bookings.
  progress(`Propagation: ${BOOKINGS} bookings at ${RATE}/s…`);
  const propagation = await Promise.race([
    measurePropagation({
      sandboxUrl: stack.sandboxUrl,
      count: BOOKINGS,
      ratePerSecond: RATE,
      progress,
    }),
    crashed,
  ]);

  // Bare before engine, so the engine's queue backlog never competes with the baseline.
  const makeWebhook = signedWebhookFactory(airbnbWebhookSecret());
  const bodyBytes = Buffer.byteLength(makeWebhook().body);
  const bareLoad = await Promise.race([ingestRun("bare Worker", bareUrl, makeWebhook), crashed]);
  const engineLoad = await Promise.race([ingestRun("engine", edgeUrl, makeWebhook), crashed]);
  if (bareLoad.requests === 0) throw new Error("the bare Worker answered no requests");
  const ratio = round(engineLoad.rps / bareLoad.rps, 3);

  const failedRequests = engineLoad.non2xx + engineLoad.errors;
  const checks = [
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
  return {
    ingest: {
      load: {
        connections: LOAD.connections,
        seconds: LOAD.seconds,
        warmup_seconds: LOAD.warmupSeconds,
        body_bytes: bodyBytes,
      },
      engine: engineLoad,
      bare: bareLoad,
      ratio,
    },
    propagation,
    targets: {
      ingest_ratio: { min: TARGETS.ingestRatioMin, pass: checks[0].pass },
      ingest_p99_ms: { max: TARGETS.ingestP99MsMax, pass: checks[1].pass },
      ingest_non2xx: { max: 0, pass: checks[2].pass },
      propagation_p99_ms: { max: TARGETS.propagationP99MsMax, pass: checks[3].pass },
      propagation_converged: { min: propagation.bookings, pass: checks[4].pass },
    },
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
  else printReport(result);
  progress(
    `\nEngine log: ${result.engine_log.path} (${result.engine_log.error_lines} error lines)` +
      `\nBench took ${Math.round((Date.now() - startedAt) / 1000)} s.`,
  );
}
process.exit(exitCode);
