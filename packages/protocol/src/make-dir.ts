/**
 * Creates a directory and its missing parents, one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` loops forever when the kernel answers ENOENT for a
 * directory whose parent exists (as /proc does), so a data folder given under such a path would
 * hang the process at start instead of failing with a clear error; this fails with that error.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeDirSync(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  while (!existsSync(current)) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Made meanwhile by someone else: fine. Anything else (ENOENT, EACCES, ENOTDIR…) is the answer.
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
}
