/** Pure parts of the MCP server: shell-style word splitting, the curl rules, masking, credential choice. */
import { describe, expect, it } from 'vitest';
import { credentialFor, loadConfig } from '../src/config.js';
import { CurlRefused, checkCurlCommand, splitWords } from '../src/curl-policy.js';
import { maskDeep, maskSecrets } from '../src/mask.js';

const HOST = 'router.lan:8080';

describe('splitWords', () => {
  it('keeps quoted text as one word and expands nothing', () => {
    expect(splitWords(`curl -H 'A: b c' -d "{\\"x\\": 1}" http://h/p\\ q`)).toEqual([
      'curl',
      '-H',
      'A: b c',
      '-d',
      '{"x": 1}',
      'http://h/p q',
    ]);
    expect(splitWords(`curl '$HOME' "~"`)).toEqual(['curl', '$HOME', '~']);
  });

  it('refuses unterminated quotes and unquoted line breaks', () => {
    expect(() => splitWords(`curl 'abc`)).toThrow(CurlRefused);
    expect(() => splitWords(`curl "abc`)).toThrow(CurlRefused);
    expect(() => splitWords('curl http://h/\nrm x')).toThrow(/line break/);
  });
});

describe('checkCurlCommand', () => {
  it('accepts the router host and localhost, and finds an explicit credential header', () => {
    const checked = checkCurlCommand(
      `curl -sSXPOST http://${HOST}/v1/x -H 'x-api-key: k' --url http://localhost:9/y`,
      HOST,
    );
    expect(checked.urls.map((u) => u.href)).toEqual([`http://${HOST}/v1/x`, 'http://localhost:9/y']);
    expect(checked.hasAuthHeader).toBe(true);
    expect(checked.args).toEqual([
      '-sSXPOST',
      `http://${HOST}/v1/x`,
      '-H',
      'x-api-key: k',
      '--url',
      'http://localhost:9/y',
    ]);
  });

  it('refuses the router host on another port and look-alike hosts', () => {
    expect(() => checkCurlCommand('curl http://router.lan:8081/', HOST)).toThrow(/only the router/);
    expect(() => checkCurlCommand('curl http://router.lan.evil.com:8080/', HOST)).toThrow(/only the router/);
    expect(() => checkCurlCommand('curl http://localhost#@evil.com/', HOST)).toThrow(/no user info/);
  });

  it('refuses a bundled short option that writes a file after allowed ones', () => {
    expect(() => checkCurlCommand(`curl -sSiO http://${HOST}/`, HOST)).toThrow(/-O is forbidden/);
  });
});

describe('maskSecrets', () => {
  it('masks every kind of secret and the configured literals', () => {
    const text =
      'Authorization: Bearer abc.def X-API-Key: sk_1234 x-node-token: nt_9 {"x-api-key":"plain"} eyJhbGci.eyJzdWIi.c2ln my-literal-secret';
    const masked = maskSecrets(text, ['my-literal-secret']);
    expect(masked).toBe(
      'Authorization: Bearer **** X-API-Key: **** x-node-token: **** {"x-api-key":"****"} **** ****',
    );
    expect(maskSecrets('key sk_abcdef and token nt_xyz')).toBe('key sk_**** and token nt_****');
  });

  it('masks inside structured values, credential headers whatever their value', () => {
    expect(
      maskDeep(
        { headers: { 'X-API-Key': 'anything', cookie: 'session=1' }, list: ['Bearer t0k3n', 3, null] },
        [],
      ),
    ).toEqual({ headers: { 'X-API-Key': '****', cookie: '****' }, list: ['Bearer ****', 3, null] });
  });
});

describe('configuration', () => {
  it('defaults to localhost:8080 and rejects a non-http URL', () => {
    expect(loadConfig({})).toMatchObject({
      routerUrl: 'http://localhost:8080',
      routerHost: 'localhost:8080',
    });
    expect(loadConfig({ LLM_ROUTER_URL: 'https://r.example/' }).routerHost).toBe('r.example:443');
    expect(() => loadConfig({ LLM_ROUTER_URL: 'ftp://x' })).toThrow(/http/);
  });

  it('uses the JWT for user and key management, the API key otherwise, each falling back to the other', () => {
    const both = loadConfig({ LLM_ROUTER_API_KEY: 'sk_k', LLM_ROUTER_JWT_TOKEN: 'jwt' });
    expect(credentialFor(both, '/v0/api-keys')?.header).toBe('Authorization');
    expect(credentialFor(both, '/v0/users/1')?.header).toBe('Authorization');
    expect(credentialFor(both, '/v0/auth/me')?.header).toBe('Authorization');
    expect(credentialFor(both, '/v0/nodes')?.header).toBe('X-API-Key');
    expect(credentialFor(both, '/v0/users-ish')?.header).toBe('X-API-Key');
    expect(credentialFor(loadConfig({ LLM_ROUTER_API_KEY: 'sk_k' }), '/v0/users')?.header).toBe('X-API-Key');
    expect(credentialFor(loadConfig({}), '/v1/models')).toBeUndefined();
  });
});
