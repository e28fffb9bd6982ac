import { Hono } from "hono";
import { airbnb } from "./airbnb/routes";
import type { AppEnv } from "./app-env";
import { beds24 } from "./beds24/routes";
import { bookingCom } from "./booking-com/routes";
import { control } from "./control/routes";

/**
 * channel-sandbox: Airbnb, Booking.com and Beds24 simulators for local runs and tests. Routing is by path
 * only, so any host name reaches it (sandbox.test in tests, 127.0.0.1:8788 locally).
 */
const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  await next();
  // Read what an early answer (401, fault, validation) left unread: workerd otherwise aborts the
  // client's upload with "Can't read from request stream after response has been sent".
  const req = c.req.raw;
  if (req.body && !req.bodyUsed) await req.arrayBuffer().catch(() => undefined);
});

app.get("/health", (c) => c.json({ ok: true, service: "channel-sandbox" }));
app.route("/_sandbox", control);
app.route("/airbnb", airbnb);
app.route("/booking_com", bookingCom);
app.route("/beds24", beds24);

app.notFound((c) => c.json({ error: "not_found" }, 404));
app.onError((err, c) => {
  console.error("sandbox error", err);
  return c.json({ error: "internal_error", message: err.message }, 500);
});

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
export { PlatformState } from "./state/platform-state";
