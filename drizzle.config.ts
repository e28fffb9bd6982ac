import { defineConfig } from "drizzle-kit";

// drizzle-kit writes flat SQL files into migrations/; `wrangler d1 migrations apply` runs them.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/schema/*.schema.ts",
  out: "./migrations",
  migrations: { prefix: "index" },
});
