/**
 * Which models a node has: every `.gguf` file in the models directory. A loose file is named
 * after the file (`stories260K.gguf` → `stories260K`); a model kept in its own folder
 * (`<dir>/<name>/*.gguf`) is named after the folder, and one level deeper after both folders
 * (`<dir>/<org>/<name>/*.gguf` → `org/name`), the layout the router and model sync use.
 * A folder that model sync is still downloading into is not a model yet.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readSyncRecord } from '../sync/ownership.js';

/**
 * `local`: placed by the operator; `synced`: downloaded from the router and verified;
 * `shared`: the router's own copy, read in place from shared storage.
 */
export type ModelOrigin = 'local' | 'synced' | 'shared';

export interface CatalogEntry {
  id: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  origin: ModelOrigin;
}

const isGguf = (name: string) => name.toLowerCase().endsWith('.gguf') && !name.startsWith('.');
/** Multimodal projectors sit beside a model but are not models themselves. */
const isProjector = (name: string) => /^mmproj/i.test(name);
const splitPart = /-(\d{5})-of-(\d{5})\.gguf$/i;

/**
 * The file that stands for a model folder: `model.gguf` if present, the first part of a split
 * model, else the first `.gguf` by name (so the choice is stable between scans).
 */
export function pickModelFile(fileNames: string[]): string | null {
  const candidates = fileNames.filter((name) => isGguf(name) && !isProjector(name)).sort();
  if (candidates.length === 0) return null;
  const preferred = candidates.find((name) => name.toLowerCase() === 'model.gguf');
  if (preferred) return preferred;
  const whole = candidates.filter((name) => !splitPart.test(name));
  if (whole.length > 0) return whole[0];
  return candidates.find((name) => splitPart.exec(name)?.[1] === '00001') ?? null;
}

async function safeReaddir(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** How a model folder's ownership record (if any) says to treat it. */
async function folderOrigin(dir: string, id: string): Promise<ModelOrigin | 'incomplete'> {
  const record = await readSyncRecord(dir);
  // A record that is unreadable or names another model does not make the folder ours.
  if (!record || record === 'corrupt' || record.model !== id) return 'local';
  return record.state === 'complete' ? 'synced' : 'incomplete';
}

const isDirLike = (child: { name: string; isDirectory(): boolean; isSymbolicLink(): boolean }) =>
  !child.name.startsWith('.') && (child.isDirectory() || (child.isSymbolicLink() && !isGguf(child.name)));

export async function scanModelsDir(dir: string): Promise<{ entries: CatalogEntry[]; warnings: string[] }> {
  const found = new Map<string, { path: string; origin: ModelOrigin }>();
  const warnings: string[] = [];
  const add = (id: string, path: string, origin: ModelOrigin) => {
    const existing = found.get(id);
    if (existing)
      warnings.push(`model id '${id}' is used by both ${existing.path} and ${path}; serving the first`);
    else found.set(id, { path, origin });
  };
  /** A folder is a model when it holds a `.gguf`; its subfolders may be models of an org. */
  const scanFolder = async (folder: string, id: string, depth: number) => {
    const children = (await safeReaddir(folder)).sort((a, b) => a.name.localeCompare(b.name));
    const file = pickModelFile(children.filter((f) => f.isFile() || f.isSymbolicLink()).map((f) => f.name));
    if (file) {
      const origin = await folderOrigin(folder, id);
      if (origin !== 'incomplete') add(id, join(folder, file), origin);
    }
    if (depth >= 2) return;
    for (const child of children) {
      if (isDirLike(child)) await scanFolder(join(folder, child.name), `${id}/${child.name}`, depth + 1);
    }
  };
  const children = (await safeReaddir(dir)).sort((a, b) => a.name.localeCompare(b.name));
  for (const child of children) {
    const fileLike = child.isFile() || child.isSymbolicLink();
    if (fileLike && isGguf(child.name) && !isProjector(child.name)) {
      add(basename(child.name, child.name.slice(-5)), join(dir, child.name), 'local');
    }
  }
  for (const child of children) {
    if (isDirLike(child)) await scanFolder(join(dir, child.name), child.name, 1);
  }
  const entries: CatalogEntry[] = [];
  for (const [id, { path, origin }] of found) {
    try {
      const info = await stat(path);
      entries.push({ id, path, sizeBytes: info.size, mtimeMs: info.mtimeMs, origin });
    } catch {
      // Vanished between listing and stat (a download being moved): the next scan sees it.
    }
  }
  return { entries, warnings };
}
