import { Hono } from "hono";
import { airbnb } from "./airbnb";
import { beds24 } from "./beds24";
import { bookingCom } from "./booking-com";
import type { AppEnv } from "./kit/app-env";
import { controlApi } from "./kit/control";
import type { Simulator } from "./kit/simulator";

/**
 * channel-sandbox: Airbnb, Booking.com and Beds24 simulators for local runs and tests. Routing is by path
 * only, so any host name reaches it (sandbox.test in tests, 127.0.0.1:8788 locally).
 */
const app = new Hono<AppEnv>();

/** Each simulator's API is mounted at `/<name>`, its control routes at `/_sandbox/<name>`. */
const SIMULATORS: readonly Simulator[] = [airbnb, bookingCom, beds24];

app.use("*", async (c, next) => {
  await next();
  // Read what an early answer (401, fault, validation) left unread: workerd otherwise aborts the
  // client's upload with "Can't read from request stream after response has been sent".
  const req = c.req.raw;
  if (req.body && !req.bodyUsed) await req.arrayBuffer().catch(() => undefined);
});

app.get("/health", (c) => c.json({ ok: true, service: "channel-sandbox" }));
app.route("/_sandbox", controlApi(SIMULATORS));
for (const s of SIMULATORS) app.route(`/${s.profile.name}`, s.routes);

app.notFound((c) => c.json({ error: "not_found" }, 404));
app.onError((err, c) => {
  console.error("sandbox error", err);
  return c.json({ error: "internal_error", message: err.message }, 500);
});

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
export { PlatformState } from "./platform-state";
