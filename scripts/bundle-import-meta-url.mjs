// Injected into the router bundle (scripts/bundle-router.mjs): `import.meta.url` for code that is
// CommonJS there, the bundle file's own URL (as for an ES module at that path).
export const import_meta_url = require('node:url').pathToFileURL(__filename).href;
