/** The built `llm-router` CLI, run as a user would, against a fresh database. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestRouter } from './support/router-harness.js';

// The package's bin: the production bundle `make build` writes.
const cli = resolve(import.meta.dirname, '../dist/llm-router.js');
const dataDir = mkdtempSync(join(tmpdir(), 'llm-router-cli-'));
const env = { PATH: process.env.PATH ?? '', HOME: dataDir, LLM_ROUTER_DATA_DIR: dataDir };

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, input, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('llm-router CLI', () => {
  it('prints help with every environment variable, and its version', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'LLM_ROUTER_PORT',
      'LLM_ROUTER_DATABASE_URL',
      'LLM_ROUTER_LOAD_BALANCER_MODE',
      'LLM_ROUTER_ALLOW_NO_GPU',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]) {
      expect(help.out).toContain(name);
    }
    expect(run(['--version']).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command and bad scopes with a usage error', () => {
    expect(run(['frobnicate']).code).toBe(2);
    const bad = run(['api-key', 'create', '--name', 'x', '--scopes', 'root']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Unknown scope');
  });

  it('fails with a clear error, not a hang, when the database folder cannot be made', () => {
    // /proc answers ENOENT to mkdir, on which Node 20's recursive mkdirSync loops forever.
    const result = spawnSync(process.execPath, [cli, 'serve'], {
      env: {
        ...env,
        LLM_ROUTER_PORT: '0',
        LLM_ROUTER_DATABASE_URL: 'sqlite:/proc/llm-router-test/router.db',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.signal).toBeNull(); // not killed by the timeout
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('/proc/llm-router-test');
  });

  it('creates, lists and revokes API keys directly in the database', () => {
    const created = run([
      'api-key',
      'create',
      '--name',
      'ops',
      '--scopes',
      'api:inference,node:register',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const { id, key } = JSON.parse(created.out);
    expect(key).toMatch(/^sk_/);
    const list = run(['api-key', 'list']);
    expect(list.out).toContain(id);
    expect(list.out).toContain('api:inference,node:register');
    expect(list.out).not.toContain(key);
    expect(run(['api-key', 'revoke', id]).code).toBe(0);
    expect(run(['api-key', 'list']).out).not.toContain(id);
    expect(run(['api-key', 'revoke', id]).code).toBe(2);
  });

  it('adds users, lists them, and resets a password from stdin', () => {
    expect(run(['user', 'add', 'ops-admin', '--password', 'first-password', '--role', 'admin']).code).toBe(0);
    expect(run(['user', 'add', 'ops-admin', '--password', 'first-password']).code).toBe(2);
    expect(run(['user', 'add', 'short', '--password', 'short']).code).toBe(2);
    expect(run(['user', 'list']).out).toMatch(/ops-admin\s+admin/);
    expect(run(['user', 'reset-password', 'ops-admin', '--password-stdin'], 'second-password\n').code).toBe(
      0,
    );
    expect(run(['user', 'reset-password', 'nobody', '--password', 'whatever-long']).code).toBe(2);
  });

  it('lets a reset password log in to a running router', async () => {
    const router = await startTestRouter();
    try {
      const routerEnv = { ...env, LLM_ROUTER_DATABASE_URL: router.databaseUrl };
      const reset = spawnSync(
        process.execPath,
        [cli, 'user', 'reset-password', 'admin', '--password', 'brand-new-pass'],
        {
          env: routerEnv,
          encoding: 'utf8',
        },
      );
      expect(reset.status).toBe(0);
      const old = await router.call('POST', '/v0/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(old.status).toBe(401);
      const fresh = await router.call('POST', '/v0/auth/login', {
        body: { username: 'admin', password: 'brand-new-pass' },
      });
      expect(fresh.status).toBe(200);
    } finally {
      await router.stop();
    }
  });
});

describe('the bundled bin', () => {
  it('maps stack frames in the bundle to src/*.ts, and leaves other frames as they are', () => {
    // A frame at `startRouter`'s definition in the bundle, formatted by the bin's stack-trace hook.
    const script = `
      import { readFileSync } from 'node:fs';
      process.argv = [process.argv[0], 'llm-router', '--version'];
      await import(${JSON.stringify(cli)});
      const bundle = ${JSON.stringify(resolve(import.meta.dirname, '../dist/bundle/llm-router.cjs'))};
      const lines = readFileSync(bundle, 'utf8').split('\\n');
      const line = lines.findIndex((l) => l.includes('async function startRouter('));
      const column = lines[line].indexOf('async function startRouter(') + 1;
      const frame = (file, text) => ({
        getFileName: () => file, getLineNumber: () => line + 1, getColumnNumber: () => column,
        getFunctionName: () => 'startRouter', getMethodName: () => null,
        isConstructor: () => false, isAsync: () => false, toString: () => text,
      });
      console.log(Error.prepareStackTrace(new TypeError('boom'), [frame(bundle, 'x'), frame('/elsewhere.js', 'f (/elsewhere.js:1:2)')]));
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+\.\d+\.\d+$/); // --version ran
    expect(lines[1]).toBe('TypeError: boom');
    expect(lines[2]).toMatch(/^ {4}at startRouter \(.*\/packages\/router\/src\/main\.ts:\d+:\d+\)$/);
    expect(lines[3]).toBe('    at f (/elsewhere.js:1:2)');
  });
});
