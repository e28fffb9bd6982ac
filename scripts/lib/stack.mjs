// Starts the engine and the sandbox under `wrangler dev` (workerd, local D1/Queues/DOs), applies
// migrations, seeds the demo data and creates the matching listings in the sandbox.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, openSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const QUIET_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" };

export const DEMO = {
  tenantId: "ten_alpine",
  seehaus: {
    propertyId: "prop_seehaus",
    roomTypeId: "rt_seehaus",
    airbnbListing: "41000001",
    hotelId: "1500001",
    roomId: "150000101",
    ratePlanId: "900001",
  },
  alpenblick: {
    propertyId: "prop_alpenblick",
    roomTypeId: "rt_alpenblick_double",
    airbnbListing: "41000002",
    hotelId: "1500002",
    roomId: "150000201",
    ratePlanId: "900002",
    units: 5,
  },
  // Second tenant (isolation): its own flat on both platforms.
  duenenblick: {
    propertyId: "prop_duenenblick",
    airbnbListing: "42000001",
    hotelId: "1600001",
    roomId: "160000101",
  },
  /** Local-only demo tokens seeded by scripts/demo-seed.sql (stored there as SHA-256 hashes). */
  tokens: {
    alpineAdmin: "cm_alpine-admin-local-demo-0000000000000000000",
    alpineViewer: "cm_alpine-viewer-local-demo-000000000000000000",
    kuesteAdmin: "cm_kueste-admin-local-demo-0000000000000000000",
  },
};

function run(args, what) {
  const r = spawnSync(WRANGLER, args, { cwd: ROOT, env: QUIET_ENV, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function ensureDevVars() {
  const target = join(ROOT, ".dev.vars");
  if (!existsSync(target)) copyFileSync(join(ROOT, ".dev.vars.example"), target);
}

export function prepareDatabase(persistTo) {
  run(
    ["d1", "migrations", "apply", "channel-manager", "--local", "--persist-to", persistTo],
    "applying D1 migrations",
  );
  run(
    [
      "d1",
      "execute",
      "channel-manager",
      "--local",
      "--persist-to",
      persistTo,
      "--file",
      "scripts/demo-seed.sql",
    ],
    "seeding demo data",
  );
}

/** Read-only SQL against the local D1 (the demo uses it to show what is stored). */
export function queryD1(persistTo, sql) {
  const out = run(
    [
      "d1",
      "execute",
      "channel-manager",
      "--local",
      "--persist-to",
      persistTo,
      "--json",
      "--command",
      sql,
    ],
    "D1 query",
  );
  return JSON.parse(out)[0].results;
}

/**
 * Each stack keeps its own wrangler dev registry: stacks running side by side (npm start and the
 * demo, say) otherwise share one, and one stack stopping makes the other's Workers reload.
 */
export function stackEnv(persistTo) {
  return { ...QUIET_ENV, WRANGLER_REGISTRY_PATH: resolve(ROOT, persistTo, "dev-registry") };
}

function startWorker(name, args, logDir, env) {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `${name}.log`), "a");
  const child = spawn(
    WRANGLER,
    ["dev", "--ip", "127.0.0.1", "--show-interactive-dev-session=false", ...args],
    {
      cwd: ROOT,
      env,
      stdio: ["ignore", log, log],
      detached: process.platform !== "win32",
    },
  );
  return child;
}

export async function waitForHealth(url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`${url} did not become healthy in ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function sandboxCall(sandboxUrl, method, path, body) {
  let answer;
  for (let attempt = 1; ; attempt++) {
    try {
      // A POST goes on a socket of its own: fetch() may hand it a kept-alive socket that wrangler
      // dev has just closed (seen after a blocking `wrangler d1 execute`), and a POST that fails
      // that way cannot safely be sent again. A `connection: close` header does not prevent it.
      answer =
        method === "POST"
          ? await freshRequest(`${sandboxUrl}${path}`, method, body)
          : await fetch(`${sandboxUrl}${path}`, {
              method,
              headers: body === undefined ? {} : { "content-type": "application/json" },
              body: body === undefined ? undefined : JSON.stringify(body),
            }).then(async (res) => ({ status: res.status, text: await res.text() }));
      break;
    } catch (err) {
      // Should a connection still fail before any answer, an idempotent call goes again once.
      if (attempt === 1 && method !== "POST") continue;
      const cause = err?.cause?.code ?? err?.cause?.message ?? err?.code ?? "";
      throw new Error(
        `sandbox ${method} ${path}: ${err?.message ?? err}${cause ? ` (${cause})` : ""}`,
        { cause: err },
      );
    }
  }
  const { status, text } = answer;
  if (status < 200 || status >= 300)
    throw new Error(`sandbox ${method} ${path} → ${status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** One HTTP request on a new connection (no agent, no pooled socket). */
function freshRequest(url, method, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: false,
        headers:
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * The sandbox side of the demo data: listings and rooms the seeded mappings point at. Alpine's
 * listings belong to the host account of the app-level AIRBNB_REFRESH_TOKEN (APP_CREDENTIALS_TENANT
 * lets that one tenant use it); Küstenliebe's flat belongs to a host account of its own.
 */
export async function seedSandbox(sandboxUrl) {
  const { account: kueste } = await sandboxCall(sandboxUrl, "POST", "/_sandbox/airbnb/accounts", {
    account: "kueste",
  });
  for (const p of [DEMO.seehaus, DEMO.alpenblick, DEMO.duenenblick]) {
    await sandboxCall(sandboxUrl, "PUT", `/_sandbox/airbnb/listings/${p.airbnbListing}`, {
      nightly_price: "150.00",
      currency: "EUR",
      account: p === DEMO.duenenblick ? kueste : "default",
    });
    await sandboxCall(
      sandboxUrl,
      "PUT",
      `/_sandbox/booking_com/hotels/${p.hotelId}/rooms/${p.roomId}`,
      {
        units: p.units ?? 1,
        ...(p.ratePlanId ? { rate_plan_id: p.ratePlanId } : {}),
      },
    );
  }
}

/**
 * Küstenliebe's Airbnb connection stores its own host account's refresh token, as every tenant but
 * APP_CREDENTIALS_TENANT must; the engine then asks Airbnb about its mapping again (the cron tick
 * runs the verify-mappings job) before anything syncs.
 */
async function connectOwnAirbnbAccount(engineUrl, sandboxUrl) {
  const { refresh_token } = await sandboxCall(sandboxUrl, "POST", "/_sandbox/airbnb/accounts", {
    account: "kueste",
  });
  const res = await fetch(`${engineUrl}/api/v1/channel-connections/con_duenenblick_airbnb`, {
    method: "PATCH",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${DEMO.tokens.kuesteAdmin}`,
    },
    body: JSON.stringify({ credentials: { refresh_token } }),
  });
  if (!res.ok) throw new Error(`storing Küstenliebe's Airbnb credentials → ${res.status}`);
  await fetch(`${engineUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
}

/**
 * Start both Workers. Returns their URLs and a stop() that ends both process groups.
 * `engineVars` override .dev.vars (the demo and bench run their own stack on other ports).
 */
export async function startStack({
  enginePort = 8787,
  sandboxPort = 8788,
  persistTo = ".wrangler/state",
  logDir = ".wrangler/logs",
  inspectorBase = 9229,
} = {}) {
  ensureDevVars();
  prepareDatabase(persistTo);
  const engineUrl = `http://127.0.0.1:${enginePort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const sandbox = startWorker(
    "sandbox",
    [
      "-c",
      "sandbox/wrangler.toml",
      "--port",
      String(sandboxPort),
      "--inspector-port",
      String(inspectorBase + 1),
      "--persist-to",
      persistTo,
      "--var",
      `ENGINE_URL:${engineUrl}`,
    ],
    logDir,
    stackEnv(persistTo),
  );
  const engine = startWorker(
    "engine",
    [
      "--port",
      String(enginePort),
      "--inspector-port",
      String(inspectorBase),
      "--persist-to",
      persistTo,
      "--test-scheduled",
      "--var",
      `AIRBNB_API_BASE:${sandboxUrl}/airbnb`,
      "--var",
      `BOOKING_COM_API_BASE:${sandboxUrl}/booking_com`,
      "--var",
      `BEDS24_API_BASE:${sandboxUrl}/beds24`,
      // The demo agency uses the app-level sandbox host credentials (whatever .dev.vars says).
      "--var",
      `APP_CREDENTIALS_TENANT:${DEMO.tenantId}`,
    ],
    logDir,
    stackEnv(persistTo),
  );
  const children = [sandbox, engine];
  const stop = () => {
    for (const c of children) {
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        c.kill("SIGTERM");
      }
    }
  };
  try {
    await Promise.all([waitForHealth(engineUrl), waitForHealth(sandboxUrl)]);
    await seedSandbox(sandboxUrl);
    await connectOwnAirbnbAccount(engineUrl, sandboxUrl);
  } catch (err) {
    stop();
    throw err;
  }
  return { engineUrl, sandboxUrl, persistTo, logDir, stop, children };
}
