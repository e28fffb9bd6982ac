// Copies Swagger UI from node_modules into the Worker's static assets, so /docs serves the API
// reference from this Worker (no third-party CDN). Run by wrangler's [build] and by `npm test`.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join(root, ".docs-assets", "docs");
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js"]) {
  copyFileSync(join(dist, file), join(target, file));
}
