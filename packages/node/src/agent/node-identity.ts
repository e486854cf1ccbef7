/**
 * The node's stable id: a UUID kept in the state directory, so a restarted node is the same
 * node to the router. The file name includes the port, so two nodes on one host stay two.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirSync } from '@llm-router/protocol';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function identityFile(stateDir: string, port: number): string {
  return join(stateDir, `node-${port}.json`);
}

async function readIdentity(path: string): Promise<{ id: string; token: string | null } | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { node_id?: unknown; node_token?: unknown };
    if (typeof parsed.node_id !== 'string' || !UUID.test(parsed.node_id)) return null;
    return { id: parsed.node_id, token: typeof parsed.node_token === 'string' ? parsed.node_token : null };
  } catch {
    return null;
  }
}

/**
 * Persists the id and, once registered, the node token: a restarted node proves with it that it
 * is the same node, so nobody else can take its identity over at the router.
 */
export async function saveNodeId(
  stateDir: string,
  port: number,
  nodeId: string,
  nodeToken: string | null = null,
): Promise<void> {
  makeDirSync(stateDir); // not mkdir's recursive mode: it never settles on paths such as /proc
  const path = identityFile(stateDir, port);
  // Write-then-rename: a crash mid-write never leaves a half file that would change our id.
  const temp = `${path}.${process.pid}.tmp`;
  const record = { node_id: nodeId, node_token: nodeToken, port, saved_at: new Date().toISOString() };
  // 0600: the file holds the node's credential.
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** Reads the persisted id (and token), creating and persisting a new id the first time. */
export async function loadOrCreateNodeId(
  stateDir: string,
  port: number,
): Promise<{ id: string; created: boolean; token: string | null }> {
  const existing = await readIdentity(identityFile(stateDir, port));
  if (existing) return { ...existing, created: false };
  const id = randomUUID();
  await saveNodeId(stateDir, port, id);
  return { id, created: true, token: null };
}
