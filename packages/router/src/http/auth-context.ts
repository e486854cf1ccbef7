/**
 * Who is calling: resolved once per request by the auth guard and attached to the request.
 */
import type { ApiKeyScope } from '@llm-router/protocol';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { Limits } from '../limits/spec.js';

export type Principal =
  | {
      kind: 'api_key';
      apiKeyId: string;
      scopes: string[];
      createdBy: string | null;
      /** The key's limits as loaded in memory (null = none). */
      limits?: Limits | null;
    }
  | { kind: 'user'; userId: string; username: string; role: 'admin' | 'viewer' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Builds an onRequest hook (auth runs before the body is read) that rejects callers without `scope` (401 no/invalid credentials, 403 wrong scope). */
export type RequireScope = (scope: ApiKeyScope) => onRequestAsyncHookHandler;

/** The user an action is attributed to: the signed-in user, or the creator of the API key used. */
export function actingUserId(principal: Principal | undefined): string | null {
  if (principal?.kind === 'user') return principal.userId;
  if (principal?.kind === 'api_key') return principal.createdBy;
  return null;
}
