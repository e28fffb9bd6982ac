import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import {
  AUTH_ERRORS,
  BEARER,
  jsonContent,
  ok,
  WRITE_ERRORS,
  type AppEnv,
} from "../../http/openapi";
import { liveConnection } from "./checks";
import { testPayload } from "./payload-test";
import { TAGS, TestBody, TestResultSchema } from "./schemas";

/** POST /api/v1/channel-mappings/test: a sample inbound payload against the connection's mappings. */

export const testRoute = createRoute({
  method: "post",
  path: "/test",
  tags: TAGS,
  summary: "Run a sample inbound payload against the connection's mappings (read-only)",
  description:
    "Answers what the payload maps to on this connection, with warnings for anything that would not resolve (unmapped listing or room, hotel id that differs from the connection's, deleted mapping, inactive connection, payload the ingress would reject). Nothing is stored.",
  security: BEARER,
  request: { body: jsonContent(TestBody) },
  responses: {
    200: ok("What the payload maps to", TestResultSchema),
    ...AUTH_ERRORS,
    422: WRITE_ERRORS[422],
  },
});

export const testHandler: RouteHandler<typeof testRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const connection = await liveConnection(c.env.DB, c.var.auth.tenantId, body.connection_id);
  return c.json(await testPayload(c.env.DB, connection, body.payload), 200);
};
