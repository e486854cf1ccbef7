/**
 * The one way the dashboard talks to the router: same-origin fetch riding on the HttpOnly
 * session cookie, the CSRF token (read from its cookie) on every write, API errors turned into
 * ApiError with the router's message, and any 401 handed to one handler (back to login).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const CSRF_COOKIE = 'llm_router_csrf';

export function readCookie(name: string, cookies = document.cookie): string | undefined {
  for (const part of cookies.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

let unauthorizedHandler: () => void = () => {};
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

/** Reads the router's error shapes: `{error:{message,code,param}}` (v0 and v1) or plain text. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string; code?: string | number; param?: string } | string;
    };
    if (body && typeof body.error === 'object' && body.error?.message) {
      return new ApiError(
        res.status,
        body.error.message,
        body.error.code === undefined ? null : String(body.error.code),
        body.error.param ?? null,
      );
    }
    if (typeof body.error === 'string') return new ApiError(res.status, body.error);
  } catch {}
  return new ApiError(res.status, text.trim() || `${res.status} ${res.statusText || 'request failed'}`);
}

export function writeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const csrf = readCookie(CSRF_COOKIE);
  return { ...(csrf ? { 'x-csrf-token': csrf } : {}), ...extra };
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: method === 'GET' ? headers : writeHeaders(headers),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'Cannot reach the router: check that it is running');
  }
  if (res.status === 401 && !path.startsWith('/v0/auth/login')) unauthorizedHandler();
  if (!res.ok) throw await errorFromResponse(res);
  if (res.status === 204 || res.status === 202) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
