/**
 * Which models a node has: every `.gguf` file in the models directory. A loose file is named
 * after the file (`stories260K.gguf` → `stories260K`); a model kept in its own folder
 * (`<dir>/<name>/*.gguf`) is named after the folder, the layout model downloads use.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface CatalogEntry {
  id: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
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

export async function scanModelsDir(dir: string): Promise<{ entries: CatalogEntry[]; warnings: string[] }> {
  const found = new Map<string, string>();
  const warnings: string[] = [];
  const add = (id: string, path: string) => {
    const existing = found.get(id);
    if (existing)
      warnings.push(`model id '${id}' is used by both ${existing} and ${path}; serving the first`);
    else found.set(id, path);
  };
  const children = (await safeReaddir(dir)).sort((a, b) => a.name.localeCompare(b.name));
  for (const child of children) {
    const fileLike = child.isFile() || child.isSymbolicLink();
    if (fileLike && isGguf(child.name) && !isProjector(child.name)) {
      add(basename(child.name, child.name.slice(-5)), join(dir, child.name));
    }
  }
  for (const child of children) {
    const dirLike = child.isDirectory() || (child.isSymbolicLink() && !isGguf(child.name));
    if (!dirLike || child.name.startsWith('.')) continue;
    const files = (await safeReaddir(join(dir, child.name)))
      .filter((f) => f.isFile() || f.isSymbolicLink())
      .map((f) => f.name);
    const file = pickModelFile(files);
    if (file) add(child.name, join(dir, child.name, file));
  }
  const entries: CatalogEntry[] = [];
  for (const [id, path] of found) {
    try {
      const info = await stat(path);
      entries.push({ id, path, sizeBytes: info.size, mtimeMs: info.mtimeMs });
    } catch {
      // Vanished between listing and stat (a download being moved): the next scan sees it.
    }
  }
  return { entries, warnings };
}
