/** The server's settings, from the environment (the upstream's variable names). */

export interface McpConfig {
  /** The router's base URL, without a trailing slash. */
  routerUrl: string;
  /** `host:port` of the router, as curl commands must name it. */
  routerHost: string;
  apiKey?: string;
  jwtToken?: string;
  /** A local OpenAPI file served instead of the router's live `/openapi.json` (upstream's variable). */
  openApiPath?: string;
}

const DEFAULT_URL = 'http://localhost:8080';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): McpConfig {
  const raw = (env.LLM_ROUTER_URL?.trim() || DEFAULT_URL).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`LLM_ROUTER_URL is not a URL: '${raw}' (example: http://localhost:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`LLM_ROUTER_URL must be an http:// or https:// URL, got '${raw}'`);
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return {
    routerUrl: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`,
    routerHost: `${url.hostname}:${port}`,
    apiKey: env.LLM_ROUTER_API_KEY?.trim() || undefined,
    jwtToken: env.LLM_ROUTER_JWT_TOKEN?.trim() || undefined,
    openApiPath: env.LLM_ROUTER_OPENAPI_PATH?.trim() || undefined,
  };
}

/**
 * Which credential a router path wants: the dashboard JWT for user and key management
 * (`/v0/users`, `/v0/api-keys`, `/v0/invitations`, `/v0/auth/me`), the API key otherwise.
 * When the preferred one is not configured, the other is used (an admin JWT passes every
 * check; an `admin:*` key passes all but `/v0/auth/me`).
 */
export function credentialFor(
  config: McpConfig,
  path: string,
): { header: string; value: string } | undefined {
  const wantsJwt = /^\/v0\/(users|api-keys|invitations|auth\/me)(\/|\?|$)/.test(path);
  const jwt = config.jwtToken ? { header: 'Authorization', value: `Bearer ${config.jwtToken}` } : undefined;
  const key = config.apiKey ? { header: 'X-API-Key', value: config.apiKey } : undefined;
  return wantsJwt ? (jwt ?? key) : (key ?? jwt);
}
