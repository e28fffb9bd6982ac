import { channelMappings } from "./api/channel-mappings/routes";
import { swaggerPage } from "./http/docs";
import { ApiError, errorResponse } from "./http/errors";
import { createRouter } from "./http/openapi";
import { channelConnections } from "./api/channel-connections/routes";
import { channelStatus } from "./api/channel-status/routes";
import { deadLetters } from "./api/dead-letters/routes";
import { events } from "./api/events/routes";
import { metrics } from "./api/metrics/routes";
import { operations } from "./api/operations/routes";
import { properties } from "./api/properties/routes";
import { roomTypeCalendar } from "./api/room-type-calendar/routes";
import { syncLogs } from "./api/sync-logs/routes";
import { tenants, tokens } from "./api/tenants/routes";
import { webhooks } from "./api/webhooks/routes";
import { WEBHOOK_DOCS } from "./api/webhooks/schemas";

export function createApp() {
  const app = createRouter();

  app.route("/", operations);
  // Signed, not token-authenticated: the raw body must reach the verifier untouched.
  app.route("/api/v1/webhooks", webhooks);
  app.route("/api/v1/tenants", tenants);
  app.route("/api/v1/tokens", tokens);
  app.route("/api/v1/properties", properties);
  app.route("/api/v1/channel-connections", channelConnections);
  app.route("/api/v1/channel-mappings", channelMappings);
  // Only /{id}/channel-status; beside (after) the properties router on the same prefix.
  app.route("/api/v1/properties", channelStatus);
  app.route("/api/v1/room-types", roomTypeCalendar);
  app.route("/api/v1/metrics", metrics);
  app.route("/api/v1/events", events);
  app.route("/api/v1/dead-letters", deadLetters);
  app.route("/api/v1/sync-logs", syncLogs);

  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    description: "A tenant API token (cm_…); POST /api/v1/tenants takes the operator token",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "MetricsToken", {
    type: "http",
    scheme: "bearer",
    description: "The METRICS_TOKEN secret; only GET /metrics takes it",
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
