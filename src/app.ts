import { Hono } from "hono";
import { ApiError, errorResponse } from "./http/errors";
import { metricsText } from "./lib/metrics";
import { webhooks } from "./routes/webhooks";

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();

  app.get("/health", (c) => c.json({ ok: true, service: "channel-manager" }));
  app.get("/metrics", (c) => c.text(metricsText()));
  app.route("/api/v1/webhooks", webhooks);

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
