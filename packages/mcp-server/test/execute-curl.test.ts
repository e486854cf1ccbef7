/**
 * `execute_curl` through the official MCP client against a real router: allowed commands run
 * with the right credential injected; every forbidden form (shell metacharacters, options that
 * write files or read config, foreign hosts) is refused before curl starts, and nothing is
 * written to disk; every secret in the reply is masked.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouterProcess, startRouterProcess, stopAll, tempDir } from '../../../test/support/processes.js';
import { connectMcp, type McpSession } from './support/mcp-client.js';

// biome-ignore lint/suspicious/noExplicitAny: structured results are read field by field.
type Json = any;

let router: RouterProcess;
let adminKey: string;
let jwt: string;
let mcp: McpSession;
/** The server's working directory: relative output paths would land here. */
let cwd: string;
/** A folder for absolute output paths and a file that file-reading options would send. */
let outside: string;
let secretFile: string;
let base: string;
/** A local listener (localhost is allowed) that records every request it gets. */
let sink: string;
let sinkServer: Server;
const sinkRequests: string[] = [];

const curl = async (command: string, extra: Record<string, unknown> = {}) => {
  const result = await mcp.call('execute_curl', { command, ...extra });
  return { result, reply: result.structuredContent as Json, text: JSON.stringify(result) };
};

beforeAll(async () => {
  router = await startRouterProcess();
  base = router.url;
  adminKey = await router.createKey('admin:*');
  const login = await fetch(`${base}/v0/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
  });
  jwt = ((await login.json()) as { token: string }).token;
  cwd = tempDir('mcp-cwd');
  outside = tempDir('mcp-out');
  secretFile = join(outside, 'secret.txt');
  writeFileSync(secretFile, 'TOP-SECRET-CONTENT');
  sinkServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      sinkRequests.push(
        `${req.method} ${req.url} ${body}${req.headers['x-api-key'] || req.headers.authorization ? ' (with credentials)' : ''}`,
      );
      res.end('ok');
    });
  });
  await new Promise<void>((done) => sinkServer.listen(0, '127.0.0.1', done));
  sink = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}`;
  mcp = await connectMcp(
    { LLM_ROUTER_URL: base, LLM_ROUTER_API_KEY: adminKey, LLM_ROUTER_JWT_TOKEN: jwt },
    cwd,
  );
});

afterAll(async () => {
  await mcp?.close();
  await new Promise((done) => sinkServer?.close(done));
  await stopAll();
});

describe('allowed commands', () => {
  it('runs a GET with the API key injected and returns the reply shape', async () => {
    const { result, reply } = await curl(`curl -s ${base}/v0/nodes`);
    expect(result.isError).toBeFalsy();
    expect(Object.keys(reply).sort()).toEqual(
      ['body', 'duration_ms', 'error', 'executed_command', 'headers', 'status_code', 'success'].sort(),
    );
    expect(reply).toMatchObject({ success: true, status_code: 200, body: [], error: null });
    expect(reply.headers['content-type']).toContain('application/json');
    expect(reply.executed_command).toContain('X-API-Key: ****');
    expect(reply.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('injects the JWT for /v0/auth/me (an API key is refused there)', async () => {
    const { reply } = await curl(`curl ${base}/v0/auth/me`);
    expect(reply.status_code).toBe(200);
    expect(reply.body.username).toBe('admin');
    expect(reply.executed_command).toContain('Authorization: Bearer ****');
  });

  it('sends a JSON body with -X/-H/-d, and accepts localhost on any port', async () => {
    const port = new URL(base).port;
    const { reply } = await curl(
      `curl -sS -X POST http://localhost:${port}/v0/invitations -H 'Content-Type: application/json' -d '{"expires_in_hours": 1}'`,
    );
    expect(reply.status_code).toBe(201);
    expect(reply.body.status).toBe('active');
  });

  it('without auto_auth the router answers 401, reported as an error with the reply', async () => {
    const { result, reply } = await curl(`curl ${base}/v0/nodes`, { auto_auth: false });
    expect(result.isError).toBe(true);
    expect(reply).toMatchObject({ success: false, status_code: 401 });
    expect(reply.body.error.code).toBe('missing_api_key');
  });

  it('validates the timeout (1..300) and reports a refused connection', async () => {
    expect((await mcp.call('execute_curl', { command: `curl ${base}/health`, timeout: 0 })).isError).toBe(
      true,
    );
    expect((await mcp.call('execute_curl', { command: `curl ${base}/health`, timeout: 301 })).isError).toBe(
      true,
    );
    const { result, reply } = await curl('curl http://127.0.0.1:1/health', { timeout: 5 });
    expect(result.isError).toBe(true);
    expect(reply.error).toMatch(/refused the connection|Failed to connect/);
  });
});

describe('refused commands', () => {
  const o = () => join(outside, 'written');
  const cases: Array<[string, () => string, RegExp]> = [
    ['not curl', () => `wget ${sink}/health`, /must start with 'curl '/],
    [';', () => `curl ${sink}/health; touch ${o()}`, /metacharacter ';'/],
    ['&&', () => `curl ${sink}/health && touch ${o()}`, /metacharacter '&'/],
    ['|', () => `curl ${sink}/health | tee ${o()}`, /metacharacter '\|'/],
    ['backtick', () => `curl ${sink}/\`touch ${o()}\``, /backtick/],
    ['$(', () => `curl ${sink}/$(touch ${o()})`, /'\$\('/],
    ['${', () => `curl \${HOME}`, /'\$\{'/],
    ['>', () => `curl ${sink}/health > ${o()}`, /redirect/],
    ['<', () => `curl ${sink}/health < ${secretFile}`, /redirect/],
    ['escaped newline', () => `curl ${sink}/health \\\n -o ${o()}`, /escaped newline/],
    ['-o', () => `curl -o ${o()} ${sink}/health`, /-o is forbidden \(writes files\)/],
    ['-o relative', () => `curl -o written ${sink}/health`, /-o is forbidden/],
    ['--output', () => `curl --output ${o()} ${sink}/health`, /--output is forbidden/],
    ['-sSo bundled', () => `curl -sSo ${o()} ${sink}/health`, /-o is forbidden/],
    ['-O', () => `curl -O ${sink}/health`, /-O is forbidden/],
    ['--remote-name', () => `curl --remote-name ${sink}/health`, /--remote-name is forbidden/],
    ['-D', () => `curl -D ${o()} ${sink}/health`, /-D is forbidden/],
    ['--cookie-jar', () => `curl --cookie-jar ${o()} ${sink}/health`, /--cookie-jar is forbidden/],
    ['--trace', () => `curl --trace ${o()} ${sink}/health`, /--trace is forbidden/],
    ['--trace-ascii', () => `curl --trace-ascii ${o()} ${sink}/health`, /--trace-ascii is forbidden/],
    ['--libcurl', () => `curl --libcurl ${o()} ${sink}/health`, /--libcurl is forbidden/],
    ['-w', () => `curl -w %{http_code} ${sink}/health`, /-w is forbidden/],
    ['--stderr', () => `curl --stderr ${o()} ${sink}/health`, /--stderr is forbidden/],
    ['-K', () => `curl -K ${secretFile} ${sink}/health`, /-K is forbidden \(reads/],
    ['--config', () => `curl --config ${secretFile} ${sink}/health`, /--config is forbidden/],
    ['-q', () => `curl -q ${sink}/health`, /-q is forbidden/],
    ['--netrc', () => `curl --netrc ${sink}/health`, /--netrc is forbidden/],
    ['--netrc-file', () => `curl --netrc-file ${secretFile} ${sink}/health`, /--netrc-file is forbidden/],
    ['--netrc-optional', () => `curl --netrc-optional ${sink}/health`, /--netrc-optional is forbidden/],
    ['-u', () => `curl -u admin:pw ${sink}/health`, /-u is forbidden/],
    ['--user', () => `curl --user admin:pw ${sink}/health`, /--user is forbidden/],
    ['--proto', () => `curl --proto =file ${sink}/health`, /--proto is forbidden/],
    ['--proto-redir', () => `curl --proto-redir all ${sink}/health`, /--proto-redir is forbidden/],
    ['-L', () => `curl -L ${sink}/health`, /-L is forbidden/],
    ['--resolve', () => `curl --resolve example.com:80:127.0.0.1 ${sink}/health`, /--resolve is forbidden/],
    ['-x', () => `curl -x http://example.com ${sink}/health`, /-x is forbidden/],
    ['--unix-socket', () => `curl --unix-socket /tmp/s ${sink}/health`, /--unix-socket is forbidden/],
    ['-F', () => `curl -F f=@${secretFile} ${sink}/health`, /-F is forbidden/],
    ['-T', () => `curl -T ${secretFile} ${sink}/health`, /-T is forbidden/],
    ['-d @file', () => `curl -d @${secretFile} ${sink}/health`, /would read a local file/],
    [
      '--data-binary @file',
      () => `curl --data-binary @${secretFile} ${sink}/health`,
      /would read a local file/,
    ],
    ['-H @file', () => `curl -H @${secretFile} ${sink}/health`, /would read a local file/],
    ['-b file', () => `curl -b ${secretFile} ${sink}/health`, /would read a local file/],
    ['--output=', () => `curl --output=${o()} ${sink}/health`, /--output=.* is not allowed/],
    ['unknown option', () => `curl --xattr ${sink}/health`, /--xattr is not allowed/],
    ['-m', () => `curl -m 5 ${sink}/health`, /timeout parameter/],
    ['foreign host', () => 'curl http://example.com/', /only the router/],
    ['private address', () => 'curl http://10.0.0.1:8080/v1/models', /only the router/],
    ['file://', () => `curl file://${secretFile}`, /full http:\/\/ or https:\/\/ URL/],
    ['ftp://', () => 'curl ftp://localhost/', /full http:\/\/ or https:\/\/ URL/],
    ['no scheme', () => 'curl localhost:8080/health', /full http:\/\/ or https:\/\/ URL/],
    ['user info', () => 'curl http://localhost:80@example.com/', /no user info/],
    ['--url foreign', () => 'curl --url http://example.com/', /only the router/],
    ['no URL', () => 'curl -s', /no URL/],
    ['-d @- (stdin)', () => `curl -d @- ${sink}/health`, /would read a local file/],
  ];

  it.each(cases)('%s is refused before curl runs', async (_name, command, message) => {
    const { result, reply } = await curl(command());
    expect(result.isError).toBe(true);
    expect(reply.success).toBe(false);
    expect(reply.status_code).toBeNull();
    expect(reply.error).toMatch(/^Refused/);
    expect(reply.error).toMatch(message);
  });

  it('wrote nothing to disk and sent no local file', async () => {
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(existsSync(join(outside, 'written'))).toBe(false);
    const history = await fetch(`${sink}/v0/dashboard/logs/router?limit=1000`, {
      headers: { 'x-api-key': adminKey },
    });
    expect(await history.text()).not.toContain('TOP-SECRET-CONTENT');
  });
});

describe('masking', () => {
  it('masks the injected key and JWT, explicit X-Node-Token / Bearer values and sk_/nt_ strings', async () => {
    const { text, reply } = await curl(
      `curl ${base}/v0/nodes/00000000-0000-4000-8000-000000000000/logs -H 'X-Node-Token: nt_abcdefghijklmnop' -H 'X-Trace: sk_leakedvalue123'`,
    );
    expect(reply.status_code).toBe(404);
    expect(reply.executed_command).toContain('X-Node-Token: ****');
    expect(reply.executed_command).toContain('sk_****');
    for (const secret of [adminKey, jwt, 'nt_abcdefghijklmnop', 'sk_leakedvalue123'])
      expect(text).not.toContain(secret);

    const bearer = await curl(`curl ${base}/v0/nodes -H 'Authorization: Bearer ${adminKey}'`);
    expect(bearer.reply.status_code).toBe(200);
    expect(bearer.reply.executed_command).toContain('Authorization: Bearer ****');
    expect(bearer.text).not.toContain(adminKey);
  });

  it('masks secrets in reply bodies (a key created through curl)', async () => {
    const { reply, text } = await curl(
      `curl -X POST ${base}/v0/api-keys -H 'Content-Type: application/json' -d '{"name":"via curl","scopes":["api:inference"]}'`,
    );
    expect(reply.status_code).toBe(201);
    expect(reply.body.key).toBe('sk_****');
    expect(text).not.toMatch(/sk_[A-Za-z0-9]{8,}/);
    expect(text).not.toContain(jwt);
  });
});
