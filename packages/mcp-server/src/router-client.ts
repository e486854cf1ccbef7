/**
 * The typed tools' HTTP client for the router: injects the configured credential, applies a
 * timeout, and turns every failure into a `ToolFailure` whose message tells the assistant what
 * to do next (start the router, set a variable, fix an argument).
 */
import { credentialFor, type McpConfig } from './config.js';

const TIMEOUT_MS = 60_000;

/** A failure the tool reports as `isError: true`; the message is written for the assistant. */
export class ToolFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface RouterReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: router replies are read field by field.
  body: any;
}

/** The message the router put in its error body (`{error:{message,code}}`), if any. */
function routerMessage(body: unknown): string | undefined {
  const error = (body as { error?: { message?: unknown; code?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string')
    return typeof error.code === 'string' ? `${error.message} (${error.code})` : error.message;
  return typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : undefined;
}

function hintFor(status: number, path: string, config: McpConfig): string {
  if (status === 401) {
    if (!config.apiKey && !config.jwtToken)
      return ' No credential is configured: set LLM_ROUTER_API_KEY (an sk_… key) or LLM_ROUTER_JWT_TOKEN (from POST /v0/auth/login) in the MCP server environment.';
    return ' Check that LLM_ROUTER_API_KEY / LLM_ROUTER_JWT_TOKEN are valid and not expired (a JWT lasts 24 h).';
  }
  if (status === 403) {
    return path.startsWith('/v1/')
      ? ' The API key needs the api:inference scope.'
      : ' This needs admin rights: set LLM_ROUTER_JWT_TOKEN to an admin session token, or use an API key with the admin:* scope.';
  }
  return '';
}

export class RouterClient {
  constructor(readonly config: McpConfig) {}

  /**
   * Calls the router. Replies with status >= 400 become a ToolFailure unless `allow` lists the
   * status. When the first credential is refused (401/403) and the other one is configured,
   * the call is retried once with it.
   */
  async call(
    method: string,
    path: string,
    options: { body?: unknown; allow?: number[] } = {},
  ): Promise<RouterReply> {
    const first = credentialFor(this.config, path);
    let reply = await this.send(method, path, options.body, first);
    if ((reply.status === 401 || reply.status === 403) && first) {
      const other =
        first.header === 'X-API-Key'
          ? this.config.jwtToken && { header: 'Authorization', value: `Bearer ${this.config.jwtToken}` }
          : this.config.apiKey && { header: 'X-API-Key', value: this.config.apiKey };
      if (other) reply = await this.send(method, path, options.body, other);
    }
    if (reply.status >= 400 && !options.allow?.includes(reply.status)) {
      const message = routerMessage(reply.body) ?? `HTTP ${reply.status}`;
      throw new ToolFailure(
        `The router answered ${reply.status} to ${method} ${path}: ${message}.${hintFor(reply.status, path, this.config)}`,
        reply.status,
        reply.body,
      );
    }
    return reply;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    credential: { header: string; value: string } | undefined,
  ): Promise<RouterReply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credential) headers[credential.header] = credential.value;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.config.routerUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      if (cause === 'TimeoutError')
        throw new ToolFailure(
          `The router at ${this.config.routerUrl} did not answer within ${TIMEOUT_MS / 1000} s.`,
        );
      throw new ToolFailure(
        `Could not reach the router at ${this.config.routerUrl} (${cause}). Is it running (\`make start\` or \`llm-router serve\`)? ` +
          'Set LLM_ROUTER_URL in the MCP server environment if it listens elsewhere.',
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {}
    }
    return { status: response.status, body: parsed };
  }
}

/** A model id in a URL path: each `org/name` segment encoded on its own. */
export const modelPath = (id: string) => id.split('/').map(encodeURIComponent).join('/');
