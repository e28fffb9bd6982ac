// `npm start`: the whole engine locally on embedded defaults. Nothing to install or configure.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEMO, ROOT, startStack } from "./lib/stack.mjs";

/** GET /metrics needs METRICS_TOKEN; an older .dev.vars may not set it (then /metrics is a 404). */
function metricsHint(engineUrl) {
  const vars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const token = /^METRICS_TOKEN=(.+)$/m.exec(vars)?.[1]?.trim();
  return token
    ? `curl -H 'Authorization: Bearer ${token}' ${engineUrl}/metrics`
    : "off: add METRICS_TOKEN to .dev.vars (see .dev.vars.example)";
}

console.log("Starting the channel manager (engine + platform sandbox) under wrangler dev…");
const stack = await startStack();
const { engineUrl, sandboxUrl } = stack;
console.log(`
  Engine   ${engineUrl}      (webhooks: POST /api/v1/webhooks/airbnb | booking_com, GET /health)
  Metrics  ${metricsHint(engineUrl)}
  Sandbox  ${sandboxUrl}      (Airbnb + Booking.com simulators, control API under /_sandbox)
  D1, Queues and Durable Objects are local (state in ${stack.persistTo}); logs in ${stack.logDir}/.

Demo data: tenant ${DEMO.tenantId} with "Haus am See" (Airbnb listing ${DEMO.seehaus.airbnbListing},
Booking.com hotel ${DEMO.seehaus.hotelId} room ${DEMO.seehaus.roomId}) and "Hotel Alpenblick" (5 doubles);
tenant ten_kueste with "Dünenblick". Local demo API tokens (never use these anywhere else):
  ten_alpine admin      ${DEMO.tokens.alpineAdmin}
  ten_alpine read-only  ${DEMO.tokens.alpineViewer}
  ten_kueste admin      ${DEMO.tokens.kuesteAdmin}
  API reference: ${engineUrl}/docs     e.g. curl -H 'Authorization: Bearer ${DEMO.tokens.alpineAdmin}' ${engineUrl}/api/v1/tokens

Try it — a guest books the lake house on Airbnb; watch the nights close on Booking.com:
  curl -s -X POST ${sandboxUrl}/_sandbox/airbnb/reservations -H 'content-type: application/json' \\
    -d '{"listing_id":"${DEMO.seehaus.airbnbListing}","start_date":"2027-06-10","end_date":"2027-06-13","guest_name":"Ada Lovelace"}'
  curl -s '${sandboxUrl}/_sandbox/booking_com/hotels/${DEMO.seehaus.hotelId}/rooms/${DEMO.seehaus.roomId}/calendar?start=2027-06-09&end=2027-06-14'
  Cron runs every minute as in production (pull fallback, outbox relay, mapping checks); one more
  tick now: curl '${engineUrl}/__scheduled?cron=*+*+*+*+*'
  Scripted scenario: npm run demo      Benchmarks: npm run bench

Ctrl-C stops both Workers.`);

// wrangler dev runs Cron Triggers only when asked: ask every minute, like Cloudflare would.
const cron = setInterval(() => {
  fetch(`${engineUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {});
}, 60_000);

const shutdown = () => {
  clearInterval(cron);
  stack.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
for (const child of stack.children) {
  child.on("exit", (code) => {
    console.error(`a Worker exited (code ${code}); see ${stack.logDir}/ — stopping.`);
    stack.stop();
    process.exit(1);
  });
}
