/**
 * Shared storage: when the router's copy of a model is readable on this node (the same
 * machine, or a shared/NFS mount at the same path), the node serves it in place and copies
 * nothing. "Readable" means every file of the manifest sits beside the advertised primary
 * file with the manifest's size, so a different file that happens to live at that path on
 * this host is not mistaken for the model. Hashing is left to the router, which verified them.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Manifest } from './feed.js';

export async function usableSharedPath(path: string | null, manifest: Manifest): Promise<string | null> {
  if (!path || !isAbsolute(path) || path.includes('\0')) return null;
  const primaryName = basename(path);
  if (!manifest.files.some((f) => f.name === primaryName)) return null;
  const dir = dirname(path);
  for (const file of manifest.files) {
    const filePath = join(dir, file.name);
    try {
      await access(filePath, constants.R_OK);
      const info = await stat(filePath);
      if (!info.isFile() || (file.size !== null && info.size !== file.size)) return null;
    } catch {
      return null;
    }
  }
  return path;
}
