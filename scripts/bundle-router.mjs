/**
 * `make build`: bundles the router into one ESM file, packages/router/dist/bundle/cli.js (plus
 * chunks it loads on demand), started by packages/router/dist/llm-router.js (the package's `llm-router` bin, what `make start`
 * and the tests' process harness run). Loading
 * one file instead of ~450 modules is most of `llm-router serve`'s cold start (docs/benchmarks.md,
 * "Cold start"). Native modules (better-sqlite3, @node-rs/argon2) and `pg` (loaded only for
 * PostgreSQL URLs) stay external; everything else, Kysely included, is in the bundle. A source map
 * beside it keeps stack traces pointing at src/*.ts: the bin turns source maps on before it
 * loads the bundle (Node reads a module's map only when they are on as it loads).
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const routerDir = resolve(dirname(fileURLToPath(import.meta.url)), '../packages/router');

/**
 * store/kysely-runtime.ts loads Kysely's CommonJS build with createRequire, which a bundler
 * leaves to run time (hundreds of files again). In the bundle Kysely is one more part of the
 * file, so the module imports it statically instead; its exports are unchanged.
 */
const kyselyInBundle = {
  name: 'kysely-in-bundle',
  setup(b) {
    b.onLoad({ filter: /[\\/]store[\\/]kysely-runtime\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const exported = /export const \{([^}]+)\} = kysely;/.exec(source);
      if (!exported) throw new Error(`${args.path}: expected "export const { … } = kysely;"`);
      return {
        contents: `export {${exported[1]}} from 'kysely';\n`,
        loader: 'ts',
        resolveDir: dirname(args.path),
      };
    });
  },
};

await rm(join(routerDir, 'dist/bundle'), { recursive: true, force: true });
await build({
  entryPoints: { cli: join(routerDir, 'src/cli.ts') },
  outdir: join(routerDir, 'dist/bundle'),
  bundle: true,
  // Modules the router loads with import() (the dashboard's static and compression plugins, the
  // model CLI) land in chunks of their own, read only when used.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  // Whitespace and syntax only: names stay as written, so profiles and unmapped traces read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcesContent: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __llmRouterCreateRequire } from 'node:module';\nconst require = __llmRouterCreateRequire(import.meta.url);",
  },
  external: ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native'],
  plugins: [kyselyInBundle],
  logLevel: 'warning',
  legalComments: 'none',
});

const bin = join(routerDir, 'dist/llm-router.js');
await writeFile(
  bin,
  `#!/usr/bin/env node
// \`llm-router\`: the router bundled into one file by scripts/bundle-router.mjs (\`make build\`).
process.setSourceMapsEnabled(true);
await import('./bundle/cli.js');
`,
);
await chmod(bin, 0o755);
