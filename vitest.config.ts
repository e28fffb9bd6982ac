import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";

// The sandbox Worker runs beside the engine as an auxiliary Worker. Every global fetch() the
// engine makes (to platform base URLs) is routed to it through `outboundService`, so the adapters
// talk HTTP to the simulators exactly as they would to the platforms.
async function buildSandbox(): Promise<string> {
  const outfile = ".sandbox-build/sandbox.js";
  await build({
    entryPoints: ["sandbox/src/index.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    // fast-xml-parser's dependencies (strnum, @nodable/entities) declare only "main".
    mainFields: ["module", "main"],
    target: "es2022",
    outfile,
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return outfile;
}

/** Test-only secrets and sandbox base URLs (the sandbox routes by path, any host works). */
export const TEST_BINDINGS = {
  AIRBNB_API_BASE: "http://sandbox.test/airbnb",
  BOOKING_COM_API_BASE: "http://sandbox.test/booking_com",
  AIRBNB_WEBHOOK_SECRET: "test-airbnb-secret",
  AIRBNB_WEBHOOK_SECRET_PREVIOUS: "test-airbnb-secret-old",
  AIRBNB_CLIENT_ID: "sandbox-airbnb-client",
  AIRBNB_CLIENT_SECRET: "sandbox-airbnb-client-secret",
  AIRBNB_REFRESH_TOKEN: "sandbox-airbnb-refresh-token",
  BOOKING_COM_WEBHOOK_SECRET: "test-booking-secret",
  BOOKING_COM_WEBHOOK_SECRET_PREVIOUS: "",
  BOOKING_COM_CLIENT_ID: "sandbox-booking-client",
  BOOKING_COM_CLIENT_SECRET: "sandbox-booking-client-secret",
  BEDS24_API_BASE: "http://sandbox.test/beds24",
  BEDS24_REFRESH_TOKEN: "sandbox-beds24-refresh-token",
  OPERATOR_TOKEN: "test-operator-token",
  METRICS_TOKEN: "test-metrics-token",
  // Gates flush as soon as their alarm runs; the coalescing tests set a window per connection.
  GATE_COALESCE_QUIET_MS: "0",
  GATE_COALESCE_MAX_DELAY_MS: "0",
  // Two keys: k2 encrypts, k1 (an older key) still decrypts.
  CREDENTIALS_KEYS:
    "k2:dGVzdC1rZXktdHdvLTMyLWJ5dGVzLWxvbmctLS0tLS0=,k1:dGVzdC1rZXktb25lLTMyLWJ5dGVzLWxvbmctLS0tLS0=",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const sandboxScript = await buildSandbox();
  return {
    test: {
      // Logs of passing tests are noise (expected warnings from unhappy-path tests); failures keep theirs.
      silent: "passed-only" as const,
      // A test stuck in a Durable Object call can outlive its own timeout: fail fast, naming it.
      reporters: ["default", "./test/support/hang-watch-reporter.ts"],
      // Test files share one sandbox Worker whose fault switches are per platform: run them one by one.
      fileParallelism: false,
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: migrations },
                outboundService: "sandbox",
                workers: [
                  {
                    name: "sandbox",
                    modules: true,
                    scriptPath: sandboxScript,
                    compatibilityDate: "2025-11-01",
                    bindings: {
                      ENGINE_URL: "http://engine.test",
                      AIRBNB_WEBHOOK_SECRET: TEST_BINDINGS.AIRBNB_WEBHOOK_SECRET,
                      AIRBNB_CLIENT_ID: TEST_BINDINGS.AIRBNB_CLIENT_ID,
                      AIRBNB_CLIENT_SECRET: TEST_BINDINGS.AIRBNB_CLIENT_SECRET,
                      AIRBNB_REFRESH_TOKEN: TEST_BINDINGS.AIRBNB_REFRESH_TOKEN,
                      BOOKING_COM_WEBHOOK_SECRET: TEST_BINDINGS.BOOKING_COM_WEBHOOK_SECRET,
                      BOOKING_COM_CLIENT_ID: TEST_BINDINGS.BOOKING_COM_CLIENT_ID,
                      BOOKING_COM_CLIENT_SECRET: TEST_BINDINGS.BOOKING_COM_CLIENT_SECRET,
                      BEDS24_REFRESH_TOKEN: TEST_BINDINGS.BEDS24_REFRESH_TOKEN,
                    },
                    durableObjects: {
                      PLATFORM_STATE: { className: "PlatformState", useSQLite: true },
                    },
                  },
                ],
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/unit/**"],
            setupFiles: [
              "./test/support/apply-migrations.ts",
              "./test/support/settle-after-file.ts",
            ],
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: ["test/unit/**/*.test.ts"],
          },
        },
      ],
    },
  };
});
