/**
 * Ownership records: `.llm-router-sync.json` in a model folder says which files in it this
 * node synced from the router (and whether the model is complete). It is written before the
 * first byte is downloaded, so every `.part` file is covered, and it is the only thing that
 * allows a delete: files a record does not name (placed by hand) are never removed, and a
 * folder without a readable record is never touched.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { fileInModelDir, isStorableModelId, partPathOf } from './names.js';

export const SYNC_RECORD_FILE = '.llm-router-sync.json';

const RecordFileSchema = z.object({
  name: z.string(),
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  /** Checked and renamed into place: the final file is ours and whole. */
  verified: z.boolean(),
});

const SyncRecordSchema = z.object({
  model: z.string(),
  /** `downloading`: the catalog does not serve the folder; `complete`: every file verified. */
  state: z.enum(['downloading', 'complete']),
  /** `download` (files here) or nothing else yet; kept for forward compatibility. */
  source: z.string().default('download'),
  manifest_key: z.string().nullable().default(null),
  files: z.array(RecordFileSchema),
  updated_at: z.string().optional(),
});

export type SyncRecord = z.infer<typeof SyncRecordSchema>;
export type SyncRecordFile = z.infer<typeof RecordFileSchema>;

/** The record in `dir`: null when there is none, `corrupt` when it cannot be trusted. */
export async function readSyncRecord(dir: string): Promise<SyncRecord | null | 'corrupt'> {
  let text: string;
  try {
    text = await readFile(join(dir, SYNC_RECORD_FILE), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'corrupt';
  }
  try {
    const parsed = SyncRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** Write-then-rename, so the catalog and a crash only ever see a whole record. */
export async function writeSyncRecord(dir: string, record: SyncRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, SYNC_RECORD_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ ...record, updated_at: new Date().toISOString() }, null, 2)}\n`);
  await rename(temp, path);
}

export interface OwnedModel {
  id: string;
  dir: string;
  record: SyncRecord;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const children = await readdir(dir, { withFileTypes: true });
    return children.filter((c) => c.isDirectory() && !c.name.startsWith('.')).map((c) => c.name);
  } catch {
    return [];
  }
}

/**
 * Every model folder (`name` or `org/name`) holding a valid record whose model matches the
 * folder. A record that names another model (copied by hand) does not make the folder ours.
 */
export async function findOwnedModels(modelsDir: string): Promise<Map<string, OwnedModel>> {
  const owned = new Map<string, OwnedModel>();
  const consider = async (id: string, dir: string) => {
    const record = await readSyncRecord(dir);
    if (record && record !== 'corrupt' && record.model === id && isStorableModelId(id)) {
      owned.set(id, { id, dir, record });
    }
  };
  for (const first of await subdirs(modelsDir)) {
    await consider(first, join(modelsDir, first));
    for (const second of await subdirs(join(modelsDir, first))) {
      await consider(`${first}/${second}`, join(modelsDir, first, second));
    }
  }
  return owned;
}

/** Removes one file this node synced (and its partial download); missing files are fine. */
export async function removeOwnedFile(dir: string, name: string): Promise<void> {
  const path = fileInModelDir(dir, name);
  await rm(path, { force: true });
  await rm(partPathOf(path), { force: true });
}

/**
 * Deletes what the record names, then the record, then the folder and its parents up to the
 * models dir when they are empty. Anything else in the folder (hand-placed) stays.
 */
export async function removeOwnedModel(modelsDir: string, owned: OwnedModel): Promise<void> {
  for (const file of owned.record.files) await removeOwnedFile(owned.dir, file.name);
  await rm(join(owned.dir, SYNC_RECORD_FILE), { force: true });
  const root = resolve(modelsDir);
  for (let dir = resolve(owned.dir); dir.startsWith(root + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty: hand-placed files, or another model of the same org
    }
  }
}
