// zod, as the Worker is built with it (wrangler.toml [alias] "zod"): zod's own entry
// (node_modules/zod/index.js with v4/classic/external.js) except its `locales` namespace, the
// error messages of 40-odd languages: 258 KiB of the 1.8 MB Worker, none of it used (errors are
// English). No bundler can drop them by itself: @hono/zod-openapi passes the whole `z` namespace to
// extendZodWithOpenApi when it loads, so every export of it is kept.
// Kept in step with zod by src/lib/zod-build.test.ts: the same exports, `locales` aside.
import * as z from "./zod-classic-without-locales.mjs";

export * from "./zod-classic-without-locales.mjs";
export { z, z as default };
