/**
 * The interactive API reference: Swagger UI, served from this Worker's static assets
 * (/docs/swagger-ui*.{js,css}, copied from swagger-ui-dist at build time), so nothing is fetched
 * from a third-party CDN.
 */
export function swaggerPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Edge channel manager — API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: "#swagger-ui", persistAuthorization: true });
  </script>
</body>
</html>`;
}
