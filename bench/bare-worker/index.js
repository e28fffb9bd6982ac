// Baseline for `npm run bench`: the cheapest possible Worker, served by the same runtime as the
// engine (`wrangler dev`), so the ratio isolates the engine's own cost per request.
/* global Response */
export default {
  fetch() {
    return new Response("ok");
  },
};
