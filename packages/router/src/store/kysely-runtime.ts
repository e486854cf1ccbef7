/**
 * The one place the router loads Kysely's code. Kysely ships an ESM build of several hundred
 * small modules and a CommonJS build of the same API; Node links the ESM one in about twice
 * the time (≈ 220 ms against ≈ 120 ms here), which is a fifth of `llm-router serve`'s cold start.
 * So the router requires the CommonJS build, and every value import of Kysely goes through this
 * file: one copy is loaded, so `instanceof` checks (PostgresAdapter) keep working. Types still
 * come from `import type … from 'kysely'` (the same declarations for both builds).
 */
import { createRequire } from 'node:module';

const kysely = createRequire(import.meta.url)('kysely') as typeof import('kysely');

export const { sql, Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect } = kysely;
