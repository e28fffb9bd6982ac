// The bench's own Workers (the bare Worker and the engine's edge) and their processes: start, stop,
// read their logs.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ROOT, stackEnv } from "../lib/stack.mjs";

const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
/** Resolves true when something already listens on the port (it would answer in our place). */
export const portBusy = (port) =>
  new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

/** A Worker under `wrangler dev`, started like the stack's (own process group, log, state dir). */
export function startWorker(name, config, port, inspectorPort, persistTo, logDir) {
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
export function writeEdgeOnlyConfig(configName) {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .split(/\n(?=\[)/)
    .filter((block) => !block.startsWith("[[queues.consumers]]") && !block.startsWith("[triggers]"))
    .join("\n");
  writeFileSync(join(ROOT, configName), toml);
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM each process group (wrangler and its workerd), then SIGKILL what is left after 5 s. */
export async function stopAll(children) {
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
export function scanLog(path) {
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
