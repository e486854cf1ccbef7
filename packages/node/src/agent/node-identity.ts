/**
 * The node's stable id: a UUID kept in the state directory, so a restarted node is the same
 * node to the router. The file name includes the port, so two nodes on one host stay two.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function identityFile(stateDir: string, port: number): string {
  return join(stateDir, `node-${port}.json`);
}

async function readId(path: string): Promise<string | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { node_id?: unknown };
    return typeof parsed.node_id === 'string' && UUID.test(parsed.node_id) ? parsed.node_id : null;
  } catch {
    return null;
  }
}

export async function saveNodeId(stateDir: string, port: number, nodeId: string): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const path = identityFile(stateDir, port);
  // Write-then-rename: a crash mid-write never leaves a half file that would change our id.
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(
    temp,
    `${JSON.stringify({ node_id: nodeId, port, saved_at: new Date().toISOString() }, null, 2)}\n`,
  );
  await rename(temp, path);
}

/** Reads the persisted id, creating (and persisting) a new one the first time. */
export async function loadOrCreateNodeId(
  stateDir: string,
  port: number,
): Promise<{ id: string; created: boolean }> {
  const existing = await readId(identityFile(stateDir, port));
  if (existing) return { id: existing, created: false };
  const id = randomUUID();
  await saveNodeId(stateDir, port, id);
  return { id, created: true };
}
