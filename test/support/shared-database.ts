/**
 * One database for several router processes (replica tests): a fresh database on the suite's
 * PostgreSQL server when it runs (LLM_ROUTER_TEST_POSTGRES_URL), else one fresh SQLite file.
 * `drop` removes the PostgreSQL database again (a SQLite file goes with its temporary folder).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir } from './processes.js';

export interface SharedDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function sharedDatabase(prefix: string): Promise<SharedDatabase> {
  const server = process.env.LLM_ROUTER_TEST_POSTGRES_URL;
  if (!server) return { url: `sqlite:${join(tempDir('shared-db'), 'router.db')}`, drop: async () => {} };
  const name = `${prefix}_${randomUUID().replace(/-/g, '')}`;
  await onServer(server, `CREATE DATABASE ${name}`);
  return {
    url: server.replace(/\/[^/]*$/, `/${name}`),
    drop: () => onServer(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
