/** The router cache layout: `<models dir>/<org>/<name>/<file>`, the same layout nodes use. */
import { randomUUID } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { isSafeFileName, isValidModelId } from './ids.js';
import type { ModelTaskRecord, TaskKind } from './types.js';

export function modelDirOf(modelsDir: string, id: string): string {
  if (!isValidModelId(id)) throw new Error(`refusing a cache path for invalid model id '${id}'`);
  const root = resolve(modelsDir);
  const dir = resolve(root, ...id.split('/'));
  if (!dir.startsWith(root + sep)) throw new Error(`model id '${id}' escapes the cache dir`);
  return dir;
}

export function modelFilePath(modelsDir: string, id: string, name: string): string {
  if (!isSafeFileName(name)) throw new Error(`refusing unsafe file name '${name}'`);
  return join(modelDirOf(modelsDir, id), name);
}

/** Removes a model's folder and then its now-empty parents (the org folder), never the root. */
export async function removeModelDir(modelsDir: string, id: string): Promise<void> {
  const root = resolve(modelsDir);
  let dir = modelDirOf(modelsDir, id);
  await rm(dir, { recursive: true, force: true });
  for (dir = dirname(dir); dir.startsWith(root + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (another model of the org) or already gone
    }
  }
}

export function newTask(
  modelId: string,
  kind: TaskKind,
  params: ModelTaskRecord['params'] = {},
): ModelTaskRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    modelId,
    kind,
    status: 'queued',
    attempts: 0,
    error: null,
    params,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
}
