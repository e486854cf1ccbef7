/**
 * The two calls a node makes to its router. Every call has a timeout; credentials travel in
 * headers only and are never logged. With several router replicas (`LLM_ROUTER_URL=a,b`) a
 * call that cannot reach the current one moves on to the next, and stays there while it works.
 */
import type { HeartbeatRequest, RegisterNodeRequest } from '@llm-router/protocol';

export interface RouterReply {
  status: number;
  body: unknown;
}

const CALL_TIMEOUT_MS = 10_000;

export class RouterClient {
  private readonly routerUrls: string[];
  private current = 0;

  constructor(
    routerUrls: string | string[],
    private readonly apiKey: string,
  ) {
    this.routerUrls = [routerUrls].flat();
  }

  /** The replica calls go to now. */
  get routerUrl(): string {
    return this.routerUrls[this.current] as string;
  }

  /** `proofToken`: the token the router issued this node before, proving it is the same node. */
  register(body: RegisterNodeRequest, signal: AbortSignal, proofToken?: string | null): Promise<RouterReply> {
    return this.post('/v0/nodes', body, proofToken ? { 'x-node-token': proofToken } : {}, signal);
  }

  heartbeat(body: HeartbeatRequest, nodeToken: string, signal: AbortSignal): Promise<RouterReply> {
    return this.post('/v0/health', body, { 'x-node-token': nodeToken }, signal);
  }

  private async post(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<RouterReply> {
    let response: Response | undefined;
    for (let tried = 0; ; tried++) {
      try {
        response = await fetch(`${this.routerUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}`, ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
        });
        break;
      } catch (error) {
        // Unreachable (or silent past the timeout): try the next replica, unless we are stopping.
        if (signal.aborted || tried + 1 >= this.routerUrls.length) throw error;
        this.current = (this.current + 1) % this.routerUrls.length;
      }
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Some routers answer errors in plain text; keep it as the body.
    }
    return { status: response.status, body: parsed };
  }
}

/** The `code` and `message` of an error reply in any of the router's error shapes. */
export function describeRouterError(body: unknown): { code: string; message: string } {
  if (typeof body === 'string') return { code: '', message: body };
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === 'string') return { code: error, message: error };
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { code: code === undefined || code === null ? '' : String(code), message: String(message ?? '') };
  }
  return { code: '', message: '' };
}
