import { swaggerPage } from "./http/docs";
import { ApiError, errorResponse } from "./http/errors";
import { createRouter } from "./http/openapi";
import { metricsText } from "./lib/metrics";
import { tenants, tokens } from "./routes/tenants";
import { webhooks, WEBHOOK_DOCS } from "./routes/webhooks";

export function createApp() {
  const app = createRouter();

  app.get("/health", (c) => c.json({ ok: true, service: "channel-manager" }));
  app.get("/metrics", (c) => c.text(metricsText()));
  // Signed, not token-authenticated: the raw body must reach the verifier untouched.
  app.route("/api/v1/webhooks", webhooks);
  app.route("/api/v1/tenants", tenants);
  app.route("/api/v1/tokens", tokens);

  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    description: "A tenant API token (cm_…); POST /api/v1/tenants takes the operator token",
  });
  for (const doc of WEBHOOK_DOCS) app.openAPIRegistry.registerPath(doc);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Edge channel manager API",
      version: "1.0.0",
      description:
        "Admin routes are tenant-scoped (Bearer API token). Webhook routes are verified by HMAC signature.",
    },
  });
  app.get("/docs", (c) => c.html(swaggerPage("/openapi.json")));

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
