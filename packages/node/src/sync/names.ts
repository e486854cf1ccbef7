/**
 * Names that come from the router and end up on disk. The router is authenticated but still
 * remote input: every model id and file name is checked here before it becomes a path, and
 * the resolved path must stay inside the models directory (defence in depth).
 */
import { join, resolve, sep } from 'node:path';

/** One id segment: the router's id alphabet (plus upper case for hand-made registries). */
const ID_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** A flat file name; no leading dot (our own bookkeeping files are hidden). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
const MAX_ID_LENGTH = 200;
/** `org/name` at most: the catalog scans two folder levels. */
const MAX_ID_SEGMENTS = 2;

/** Suffix of a download in progress; never a servable name. */
export const PART_SUFFIX = '.part';

export function isStorableModelId(id: string): boolean {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes('..')) return false;
  const segments = id.split('/');
  return segments.length <= MAX_ID_SEGMENTS && segments.every((s) => ID_SEGMENT.test(s));
}

export function isStorableFileName(name: string): boolean {
  return name.length <= 255 && !name.includes('..') && FILE_NAME.test(name) && !name.endsWith(PART_SUFFIX);
}

/** `<models dir>/org/name`; throws for an id that is not storable or would escape the root. */
export function modelDirFor(modelsDir: string, id: string): string {
  if (!isStorableModelId(id)) throw new Error(`refusing to store model id '${id}'`);
  const root = resolve(modelsDir);
  const dir = resolve(root, ...id.split('/'));
  if (!dir.startsWith(root + sep)) throw new Error(`model id '${id}' escapes the models dir`);
  return dir;
}

export function fileInModelDir(dir: string, name: string): string {
  if (!isStorableFileName(name)) throw new Error(`refusing unsafe file name '${name}'`);
  return join(dir, name);
}

export const partPathOf = (path: string) => `${path}${PART_SUFFIX}`;
