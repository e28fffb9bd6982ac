import { createRoute, z } from "@hono/zod-openapi";
import { requireMetricsToken } from "../../http/auth";
import { createRouter, ErrorSchema, ok } from "../../http/openapi";
import { metricsText } from "../../lib/metrics";

/** Liveness and this isolate's Prometheus counters: what a load balancer and a scraper ask. */
export const operations = createRouter();

operations.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags: ["Operations"],
    summary: "Liveness",
    responses: {
      200: {
        description: "The Worker answers",
        content: {
          "application/json": { schema: z.object({ ok: z.boolean(), service: z.string() }) },
        },
      },
    },
  }),
  (c) => c.json({ ok: true, service: "channel-manager" }, 200),
);

operations.openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    tags: ["Operations"],
    summary: "This isolate's counters in Prometheus text format",
    description:
      "Needs `Authorization: Bearer <METRICS_TOKEN>`. Without that secret the route is not " +
      "exposed (404). Label values come from fixed sets (unknown platforms count as `unknown`).",
    security: [{ MetricsToken: [] }],
    middleware: [requireMetricsToken] as const,
    responses: {
      200: { description: "Counters", content: { "text/plain": { schema: z.string() } } },
      401: ok("Missing, malformed or wrong metrics token", ErrorSchema),
      404: ok("METRICS_TOKEN is not set: the route is not exposed", ErrorSchema),
    },
  }),
  (c) => c.text(metricsText(), 200),
);
