/**
 * Where the router package lives and its version. The code runs from src/ (tests), from tsc's
 * dist/ tree and from the one-file bundle dist/llm-router.js, each at a different depth below
 * packages/router, so the package root is the nearest folder above this module with a
 * package.json (dist/ and src/ have none).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

/** packages/router (the folder holding package.json, src/, dist/ and the built dashboard). */
export const routerPackageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

export const routerVersion = (
  JSON.parse(readFileSync(join(routerPackageRoot, 'package.json'), 'utf8')) as { version: string }
).version;
