#!/usr/bin/env node
/** `llm-router`: runs the router, or manages its database directly for set-up and recovery. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiKeyStore, isApiKeyScope } from './auth/api-keys.js';
import { routerHelpText } from './cli/help.js';
import { loadRouterConfig } from './config/config.js';
import { ConfigError } from './config/env.js';
import { defaultLogging, startRouter } from './main.js';
import { openDatabase } from './store/database.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

class UsageError extends Error {}

async function serve(): Promise<void> {
  const config = loadRouterConfig();
  const logging = defaultLogging(config);
  const { log } = logging;
  const router = await startRouter(config, logging);
  if (router.firstAdmin?.generatedPassword) {
    process.stderr.write(
      `\nFirst boot: created admin user '${router.firstAdmin.username}' with password: ${router.firstAdmin.generatedPassword}\n` +
        'This password is shown only once. Set LLM_ROUTER_ADMIN_PASSWORD to choose it yourself.\n\n',
    );
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    router.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function createApiKey(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-in-days': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.name || !values.scopes) throw new UsageError('api-key create needs --name and --scopes');
  const scopes = values.scopes.split(',').map((s) => s.trim());
  const unknown = scopes.filter((s) => !isApiKeyScope(s));
  if (unknown.length > 0) throw new UsageError(`Unknown scope(s): ${unknown.join(', ')}`);
  const days = values['expires-in-days'] === undefined ? null : Number(values['expires-in-days']);
  if (days !== null && !(days > 0)) throw new UsageError('--expires-in-days must be a positive number');
  const config = loadRouterConfig();
  const db = await openDatabase(config.databaseUrl);
  try {
    const store = await ApiKeyStore.load(db);
    const expiresAt = days === null ? null : Date.now() + days * 86_400_000;
    const { key, record } = await store.create({
      name: values.name,
      scopes: scopes.filter(isApiKeyScope),
      expiresAt,
    });
    await store.close();
    if (values.json)
      process.stdout.write(`${JSON.stringify({ id: record.id, key, scopes: record.scopes })}\n`);
    else process.stdout.write(`${key}\n`);
  } finally {
    await db.destroy();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(routerHelpText(version));
    return;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (command === undefined || command === 'serve') return serve();
  if (command === 'api-key' && sub === 'create') return createApiKey(rest);
  throw new UsageError(`Unknown command: ${argv.join(' ')}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`llm-router: ${error.message}\nRun 'llm-router --help' for usage.\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
  process.stderr.write(`llm-router: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
