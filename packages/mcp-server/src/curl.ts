/**
 * `execute_curl`: runs one checked curl command (see curl-policy.ts) with spawn and an
 * argument array — never a shell — injects the configured credential, and returns the
 * upstream's reply shape with every secret masked.
 */
import { spawn } from 'node:child_process';
import { credentialFor, type McpConfig } from './config.js';
import { CurlRefused, checkCurlCommand } from './curl-policy.js';
import { maskDeep, maskSecrets } from './mask.js';

export interface CurlReply {
  success: boolean;
  status_code: number | null;
  headers: Record<string, string> | null;
  body: unknown;
  error: string | null;
  duration_ms: number;
  executed_command: string;
}

/** Output kept from curl; a bigger reply is cut (and says so). */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Body text handed back to the assistant. */
const MAX_BODY_CHARS = 100_000;

const quote = (word: string) =>
  /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

interface Parsed {
  status: number | null;
  headers: Record<string, string> | null;
  body: string;
}

/** Splits `--include` output into the final response's status, headers and body. */
function parseIncluded(output: string): Parsed {
  let rest = output;
  let status: number | null = null;
  let headers: Record<string, string> | null = null;
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    const block = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end + 4);
    const [statusLine, ...lines] = block.split('\r\n');
    status = Number(statusLine.split(' ')[1]);
    headers = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    // 1xx interim replies (100 Continue) are followed by the real one.
    if (status >= 200 || !/^HTTP\//.test(rest)) break;
  }
  return { status, headers, body: rest };
}

function parseBody(text: string, contentType: string | undefined): unknown {
  const cut = text.length > MAX_BODY_CHARS;
  const shown = cut
    ? `${text.slice(0, MAX_BODY_CHARS)}\n… (${text.length - MAX_BODY_CHARS} more characters cut)`
    : text;
  if (!cut && (contentType?.includes('json') || /^\s*[[{]/.test(text))) {
    try {
      return JSON.parse(text);
    } catch {}
  }
  return shown;
}

const LOCAL = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL names the router (localhost and 127.0.0.1 are the same machine). */
function isRouterUrl(url: URL, config: McpConfig): boolean {
  const router = new URL(config.routerUrl);
  const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
  if (port(url) !== port(router)) return false;
  return url.hostname === router.hostname || (LOCAL.has(url.hostname) && LOCAL.has(router.hostname));
}

export async function executeCurl(
  config: McpConfig,
  input: { command: string; auto_auth?: boolean; timeout?: number },
): Promise<CurlReply> {
  const started = performance.now();
  const secrets = [config.apiKey, config.jwtToken];
  const timeout = input.timeout ?? 30;
  const refused = (error: string, command = input.command): CurlReply => ({
    success: false,
    status_code: null,
    headers: null,
    body: null,
    error: maskSecrets(error, secrets),
    duration_ms: Math.round(performance.now() - started),
    executed_command: maskSecrets(command, secrets),
  });
  let checked: ReturnType<typeof checkCurlCommand>;
  try {
    checked = checkCurlCommand(input.command, config.routerHost);
  } catch (error) {
    if (error instanceof CurlRefused) return refused(error.message);
    throw error;
  }
  const injected: string[] = [];
  // Credentials go to the router only, never to another service on localhost.
  if (
    input.auto_auth !== false &&
    !checked.hasAuthHeader &&
    checked.urls.every((u) => isRouterUrl(u, config))
  ) {
    const credential = credentialFor(config, checked.urls[0].pathname);
    if (credential) injected.push('-H', `${credential.header}: ${credential.value}`);
  }
  // -q first: ignore any .curlrc. --globoff: no URL globbing. --noproxy: straight to the router.
  const args = [
    '-q',
    '--silent',
    '--show-error',
    '--include',
    '--globoff',
    '--noproxy',
    '*',
    '--max-time',
    String(timeout),
    ...injected,
    ...checked.args,
  ];
  const executed = maskSecrets(['curl', ...args].map(quote).join(' '), secrets);

  const result = await new Promise<{
    code: number | null;
    stdout: Buffer;
    stderr: string;
    spawnError?: string;
  }>((resolve) => {
    const child = spawn('curl', args, {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No proxy variables, no CURL_HOME: the environment cannot change where curl goes.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (size < MAX_OUTPUT_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64_000) stderr += chunk.toString('utf8');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeout + 5) * 1000);
    child.on('error', (error) => {
      clearTimeout(killer);
      resolve({ code: null, stdout: Buffer.alloc(0), stderr, spawnError: error.message });
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr });
    });
  });
  if (result.spawnError) {
    return refused(
      `Could not run curl (${result.spawnError}); is curl installed on the MCP server's machine?`,
      executed,
    );
  }
  const parsed = parseIncluded(result.stdout.toString('utf8'));
  const curlError = result.code === 0 ? null : result.stderr.trim() || `curl exited with code ${result.code}`;
  const hint =
    result.code === 7
      ? ` The router at ${config.routerUrl} refused the connection: is it running?`
      : result.code === 28
        ? ` No reply within ${timeout} s (raise timeout, up to 300).`
        : '';
  const status = parsed.status;
  const reply: CurlReply = {
    success: result.code === 0 && status !== null && status < 400,
    status_code: status,
    headers: parsed.headers,
    body: parsed.status === null ? null : parseBody(parsed.body, parsed.headers?.['content-type']),
    error: curlError ? `${curlError}.${hint}` : status !== null && status >= 400 ? `HTTP ${status}` : null,
    duration_ms: Math.round(performance.now() - started),
    executed_command: executed,
  };
  return maskDeep(reply, secrets);
}
