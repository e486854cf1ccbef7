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
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** A source map segment's fields (Base64 VLQ, https://sourcemaps.info/spec.html). */
function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64_VALUE.get(char);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeValue(value) {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
}

/** Rewrites a map so only sources outside node_modules are mapped (see the call below). */
async function keepOwnSources(path) {
  const map = JSON.parse(await readFile(path, 'utf8'));
  const own = map.sources.map((source) => !source.includes('node_modules/'));
  const newIndex = [];
  const sources = [];
  map.sources.forEach((source, i) => {
    newIndex[i] = own[i] ? sources.push(source) - 1 : -1;
  });
  // Absolute values across the whole mapping (VLQ fields are deltas from the previous segment).
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  let outSource = 0;
  let outLine = 0;
  let outColumn = 0;
  let outName = 0;
  let lastMapped = false;
  const lines = map.mappings.split(';').map((generatedLine) => {
    let generatedColumn = 0;
    let outGeneratedColumn = 0;
    const segments = [];
    for (const segment of generatedLine.split(',')) {
      if (segment === '') continue;
      const fields = decodeSegment(segment);
      generatedColumn += fields[0];
      let mapped = false;
      if (fields.length >= 4) {
        source += fields[1];
        line += fields[2];
        column += fields[3];
        if (fields.length >= 5) name += fields[4];
        mapped = own[source];
      }
      // One unmapped segment ends a mapped range; more in a row add nothing.
      if (!mapped && !lastMapped) continue;
      lastMapped = mapped;
      let text = encodeValue(generatedColumn - outGeneratedColumn);
      outGeneratedColumn = generatedColumn;
      if (fields.length >= 4) {
        if (mapped) {
          text +=
            encodeValue(newIndex[source] - outSource) +
            encodeValue(line - outLine) +
            encodeValue(column - outColumn);
          outSource = newIndex[source];
          outLine = line;
          outColumn = column;
          if (fields.length >= 5) {
            text += encodeValue(name - outName);
            outName = name;
          }
        }
      }
      segments.push(text);
    }
    return segments.join(',');
  });
  await writeFile(path, JSON.stringify({ ...map, sources, mappings: lines.join(';') }));
}

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

// Node reads and parses every loaded chunk's map at startup when source maps are on (≈ 100 ms
// of CPU for the whole bundle). Only the router's own code needs mapping: segments from
// node_modules become unmapped ones (1-field segments, so a dependency's frame is not blamed on
// the router source before it), and their files leave the map.
for (const file of await readdir(join(routerDir, 'dist/bundle'))) {
  if (file.endsWith('.js.map')) await keepOwnSources(join(routerDir, 'dist/bundle', file));
}

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
