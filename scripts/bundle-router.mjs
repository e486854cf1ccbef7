/**
 * `make build`: bundles the router into one CommonJS file, packages/router/dist/bundle/llm-router.cjs,
 * started by packages/router/dist/llm-router.js (the package's `llm-router` bin, what `make start`
 * and the tests' process harness run). Loading one file instead of ~450 modules is most of
 * `llm-router serve`'s cold start (docs/benchmarks.md, "Cold start"); the bin also keeps V8's code
 * cache of it (below). Native modules (better-sqlite3, @node-rs/argon2) and `pg` (loaded only
 * for PostgreSQL URLs) stay external; everything else, Kysely included, is in the bundle. A
 * source map beside it keeps stack traces pointing at src/*.ts.
 */
import { createHash } from 'node:crypto';
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
const bundleFile = join(routerDir, 'dist/bundle/llm-router.cjs');
await build({
  entryPoints: [join(routerDir, 'src/cli.ts')],
  outfile: bundleFile,
  bundle: true,
  // CommonJS so the bin can compile it with vm.Script and a code cache (Node 20 has no code
  // cache for ES modules); import() of the external packages becomes require().
  format: 'cjs',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': 'import_meta_url' },
  inject: [join(dirname(fileURLToPath(import.meta.url)), 'bundle-import-meta-url.mjs')],
  // Whitespace and syntax only: names stay as written, so profiles and unmapped traces read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcesContent: false,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native'],
  plugins: [kyselyInBundle],
  logLevel: 'warning',
  legalComments: 'none',
});

// The entry's hashbang cannot stand inside the function the bin wraps the bundle in: it becomes a
// comment of the same length, so the source map's positions still hold.
const bundled = await readFile(bundleFile, 'utf8');
if (bundled.startsWith('#!')) await writeFile(bundleFile, `//${bundled.slice(2)}`);

// Node reads and parses the bundle's map at startup when source maps are on (≈ 100 ms of CPU).
// Only the router's own code needs mapping: segments from node_modules become unmapped ones
// (1-field segments, so a dependency's frame is not blamed on the router source before it), and
// their files leave the map.
await keepOwnSources(`${bundleFile}.map`);

// V8 trusts a code cache whose source has the same length, so the cache's name carries a hash
// of this build's bundle: a rebuilt bundle never meets an old cache.
const bundleHash = createHash('sha256')
  .update(await readFile(bundleFile))
  .digest('hex')
  .slice(0, 16);

const bin = join(routerDir, 'dist/llm-router.js');
await writeFile(
  bin,
  `#!/usr/bin/env node
// \`llm-router\`: runs the router bundle that scripts/bundle-router.mjs wrote (\`make build\`).
//
// It compiles the bundle with V8's code cache kept beside it: a start reuses the machine code of
// the last one instead of parsing and compiling ~3.5 MB of JavaScript again. \`serve\` writes the
// cache once it has run 2 s (by then startup's functions are compiled) or as it exits, whichever
// comes first, atomically, and only when it is missing or V8 rejected it (another Node.js version
// or flags); a read-only install simply runs without one.
//
// Node does not apply source maps to code compiled this way, so this file maps the bundle's
// stack frames to src/*.ts itself (the map is read on the first stack trace, not at startup).
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import Module, { createRequire, SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./bundle/llm-router.cjs', import.meta.url));
const dir = dirname(file);

let sourceMap;
function originalPosition(line, column) {
  try {
    sourceMap ??= new SourceMap(JSON.parse(readFileSync(\`\${file}.map\`, 'utf8')));
    const entry = sourceMap.findEntry(line - 1, column - 1);
    if (!entry?.originalSource) return null;
    return \`\${resolve(dir, entry.originalSource)}:\${entry.originalLine + 1}:\${entry.originalColumn + 1}\`;
  } catch {
    return null;
  }
}
Error.prepareStackTrace = (error, frames) => {
  let header;
  try {
    header = Error.prototype.toString.call(error);
  } catch {
    header = '<error>';
  }
  const lines = frames.map((frame) => {
    const mapped =
      frame.getFileName() === file ? originalPosition(frame.getLineNumber(), frame.getColumnNumber()) : null;
    if (!mapped) return \`    at \${frame}\`;
    const name = frame.getFunctionName() ?? frame.getMethodName();
    const type = frame.isConstructor() ? 'new ' : frame.isAsync() ? 'async ' : '';
    return name ? \`    at \${type}\${name} (\${mapped})\` : \`    at \${type}\${mapped}\`;
  });
  return [header, ...lines].join('\\n');
};

const cacheFile = \`\${file}.${bundleHash}.cache\`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
// Only a server's cache is worth keeping: a short CLI command compiles little of the bundle.
const serving = process.argv[2] === undefined || process.argv[2] === 'serve';
if (serving && (!cachedData || script.cachedDataRejected)) {
  let written = false;
  const writeCache = () => {
    if (written) return;
    written = true;
    const temporary = \`\${cacheFile}.\${process.pid}\`;
    try {
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      try {
        unlinkSync(temporary);
      } catch {}
    }
  };
  setTimeout(writeCache, 2000).unref();
  process.once('exit', writeCache);
}
const bundle = new Module(file);
bundle.filename = file;
bundle.paths = Module._nodeModulePaths(dir);
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, dir);
`,
);
await chmod(bin, 0o755);
