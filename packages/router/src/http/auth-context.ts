/**
 * Who is calling: resolved once per request by the auth guard and attached to the request.
 */
import type { ApiKeyScope } from '@llm-router/protocol';
import type { onRequestHookHandler } from 'fastify';
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
export type RequireScope = (scope: ApiKeyScope) => onRequestHookHandler;

/** The user an action is attributed to: the signed-in user, or the creator of the API key used. */
export function actingUserId(principal: Principal | undefined): string | null {
  if (principal?.kind === 'user') return principal.userId;
  if (principal?.kind === 'api_key') return principal.createdBy;
  return null;
}

/**
 * What a route's auth guard demands: a scope, a dashboard session (`user`), or `models`
 * (an inference caller or a node token). Guards carry it so the OpenAPI document
 * (`http/openapi.ts`) reads security off the route itself instead of a second list.
 */
export type AuthRequirement = ApiKeyScope | 'user' | 'models';

const AUTH_REQUIREMENT = Symbol('authRequirement');

export function tagAuthRequirement<F extends object>(guard: F, requirement: AuthRequirement): F {
  return Object.assign(guard, { [AUTH_REQUIREMENT]: requirement });
}

export function authRequirementOf(hook: unknown): AuthRequirement | undefined {
  if (typeof hook !== 'function') return undefined;
  return (hook as unknown as Record<symbol, AuthRequirement | undefined>)[AUTH_REQUIREMENT];
}
