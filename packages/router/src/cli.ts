#!/usr/bin/env node
/** `llm-router`: runs the router, or manages its database directly for set-up and recovery. */
import { parseArgs } from 'node:util';
import { ApiKeyStore, isApiKeyScope } from './auth/api-keys.js';
import { createUser, findUserByName, listUsers, updateUser } from './auth/users.js';
import { routerHelpText } from './cli/help.js';
import { loadRouterConfig } from './config/config.js';
import { ConfigError } from './config/env.js';
import { routerVersion } from './package-info.js';
import { openDatabase, type RouterDatabase } from './store/database.js';

const version = routerVersion;

class UsageError extends Error {}

async function serve(): Promise<void> {
  // Loaded only here, so the database commands start quickly without the server's modules.
  const { defaultLogging, startRouter } = await import('./main.js');
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

/** Runs `work` against the configured database (the router need not be running). */
async function withDatabase<T>(work: (db: RouterDatabase) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadRouterConfig().databaseUrl);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Reads a new password from --password or, for scripts, from standard input (never prompts). */
async function readPassword(flag: string | undefined, stdinFlag: boolean): Promise<string> {
  let password = flag;
  if (stdinFlag) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  if (!password) throw new UsageError('give the password with --password P or --password-stdin');
  if (password.length < 8) throw new UsageError('the password must be at least 8 characters');
  return password;
}

async function userCommand(sub: string | undefined, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      password: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      role: { type: 'string', default: 'viewer' },
    },
  });
  if (sub === 'list') {
    const users = await withDatabase(listUsers);
    printTable([
      ['ID', 'USERNAME', 'ROLE', 'CREATED', 'LAST LOGIN'],
      ...users.map((u) => [u.id, u.username, u.role, iso(u.created_at), iso(u.last_login)]),
    ]);
    return;
  }
  const username = positionals[0];
  if (!username) throw new UsageError(`user ${sub ?? ''} needs a username`);
  const password = await readPassword(values.password, values['password-stdin'] ?? false);
  if (sub === 'add') {
    const role = values.role;
    if (role !== 'admin' && role !== 'viewer') throw new UsageError('--role must be admin or viewer');
    await withDatabase(async (db) => {
      if (await findUserByName(db, username)) throw new UsageError(`user '${username}' already exists`);
      await createUser(db, { username, password, role });
    });
    process.stdout.write(`created ${role} '${username}'\n`);
    return;
  }
  if (sub === 'reset-password') {
    await withDatabase(async (db) => {
      const user = await findUserByName(db, username);
      if (!user) throw new UsageError(`no user named '${username}'`);
      await updateUser(db, user.id, { password });
    });
    process.stdout.write(`password reset for '${username}'; their sessions have ended\n`);
    return;
  }
  throw new UsageError(`unknown user command: ${sub ?? '(none)'}`);
}

async function apiKeyCommand(sub: string | undefined, args: string[]): Promise<void> {
  if (sub === 'create') return createApiKey(args);
  if (sub === 'list') {
    const keys = await withDatabase(async (db) => {
      const store = await ApiKeyStore.load(db);
      await store.close();
      return store.list();
    });
    printTable([
      ['ID', 'NAME', 'PREFIX', 'SCOPES', 'EXPIRES', 'LAST USED'],
      ...keys.map((k) => [
        k.id,
        k.name,
        `${k.keyPrefix}…`,
        k.scopes.join(','),
        iso(k.expiresAt),
        iso(k.lastUsedAt),
      ]),
    ]);
    return;
  }
  if (sub === 'revoke') {
    const id = args[0];
    if (!id) throw new UsageError('api-key revoke needs the key id (see api-key list)');
    const revoked = await withDatabase(async (db) => {
      const store = await ApiKeyStore.load(db);
      const done = await store.revoke(id);
      await store.close();
      return done;
    });
    if (!revoked) throw new UsageError(`no API key with id ${id}`);
    // A running router re-reads its keys every 30 s, so the key stops working there soon too.
    process.stdout.write(`revoked ${id}\n`);
    return;
  }
  throw new UsageError(`unknown api-key command: ${sub ?? '(none)'}`);
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
  const expiresAt = days === null ? null : Date.now() + days * 86_400_000;
  const { key, record } = await withDatabase(async (db) => {
    const store = await ApiKeyStore.load(db);
    const created = await store.create({
      name: values.name as string,
      scopes: scopes.filter(isApiKeyScope),
      expiresAt,
    });
    await store.close();
    return created;
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ id: record.id, key, scopes: record.scopes })}\n`);
  else process.stdout.write(`${key}\n`);
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
  if (command === 'api-key') return apiKeyCommand(sub, rest);
  if (command === 'user') return userCommand(sub, rest);
  if (command === 'model') {
    const { modelCommand } = await import('./models/cli.js');
    return modelCommand(sub, rest, {
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      usageError: (message) => new UsageError(message),
    });
  }
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
