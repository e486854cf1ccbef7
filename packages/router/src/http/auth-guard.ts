/**
 * Turns request credentials into a Principal and enforces scopes.
 * - API keys (`sk_…`) come as `X-API-Key` or `Authorization: Bearer`, checked in memory.
 * - Dashboard users send their JWT as `Authorization: Bearer` or ride on the router's
 *   HttpOnly session cookie (then writes need the CSRF token, see session.ts). Admins pass
 *   every scope check; viewers may use inference and read the fleet's operational data.
 */
import { type ApiKeyScope, scopeAllows } from '@llm-router/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ApiKeyCheck, ApiKeyStore } from '../auth/api-keys.js';
import type { JwtIssuer } from '../auth/jwt.js';
import { findUserById } from '../auth/users.js';
import type { RouterDatabase } from '../store/database.js';
import { type Principal, type RequireScope, tagAuthRequirement } from './auth-context.js';
import { forbidden, unauthorized } from './errors.js';
import { readCookie, SESSION_COOKIE, type SessionCookies } from './session.js';

export interface AuthDeps {
  apiKeys: ApiKeyStore;
  jwt: JwtIssuer;
  db: RouterDatabase;
  /** When set, the dashboard's session cookie is accepted (with CSRF checks on writes). */
  session?: SessionCookies;
}

export function readCredential(request: FastifyRequest): string | undefined {
  const headerKey = request.headers['x-api-key'];
  if (typeof headerKey === 'string' && headerKey.trim() !== '') return headerKey.trim();
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1].trim();
  }
  return undefined;
}

const looksLikeJwt = (value: string) => value.split('.').length === 3 && !value.startsWith('sk_');

/**
 * The request's principal, or throws 401/403. An API key already in memory (the usual case on
 * the inference path) is answered synchronously; sessions, JWTs and unknown keys need the
 * database and return a promise. Callers `await` it either way.
 */
export function authenticate(deps: AuthDeps, request: FastifyRequest): Principal | Promise<Principal> {
  const credential = readCredential(request);
  const cookie = !credential && deps.session ? readCookie(request, SESSION_COOKIE) : undefined;
  if (cookie && deps.session) return sessionPrincipal(deps, deps.session, request, cookie);
  if (!credential) {
    throw unauthorized(
      'Missing API key: send it as Authorization: Bearer <key> or X-API-Key',
      'missing_api_key',
    );
  }
  if (looksLikeJwt(credential)) return userFromToken(deps, credential);
  const check = deps.apiKeys.check(credential);
  return check instanceof Promise ? check.then(keyPrincipal) : keyPrincipal(check);
}

function keyPrincipal(check: ApiKeyCheck): Principal {
  if (!check.ok) {
    throw check.reason === 'expired'
      ? unauthorized('API key expired', 'expired')
      : unauthorized('Invalid API key', 'invalid_api_key');
  }
  return {
    kind: 'api_key',
    apiKeyId: check.key.id,
    scopes: check.key.scopes,
    createdBy: check.key.createdBy,
    limits: check.key.limits,
  };
}

async function sessionPrincipal(
  deps: AuthDeps,
  session: SessionCookies,
  request: FastifyRequest,
  cookie: string,
): Promise<Principal> {
  const principal = await userFromToken(deps, cookie);
  if (!session.csrfOk(request, cookie)) {
    throw forbidden('Missing or wrong X-CSRF-Token for this session', 'csrf_failed');
  }
  return principal;
}

async function userFromToken(deps: AuthDeps, token: string): Promise<Principal> {
  const claims = await deps.jwt.verify(token);
  const user = claims ? await findUserById(deps.db, claims.userId) : undefined;
  if (!claims || !user || user.token_generation !== claims.generation) {
    throw unauthorized('Invalid or expired session token', 'invalid_token');
  }
  return { kind: 'user', userId: user.id, username: user.username, role: user.role };
}

export function principalAllows(principal: Principal, scope: ApiKeyScope): boolean {
  if (principal.kind === 'api_key') return scopeAllows(principal.scopes, scope);
  if (principal.role === 'admin') return true;
  return scope === 'api:inference';
}

export function createRequireScope(deps: AuthDeps): RequireScope {
  return (scope) => {
    const admit = (request: FastifyRequest, principal: Principal) => {
      if (!principalAllows(principal, scope)) {
        throw principal.kind === 'user'
          ? forbidden('Admin access required', 'admin_required')
          : forbidden(`This API key lacks the '${scope}' scope`, 'insufficient_scope');
      }
      request.principal = principal;
    };
    // A callback hook, not an async one: a key already in memory is checked without a promise
    // (every inference request passes here).
    return tagAuthRequirement(
      (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
        // `done` runs the next hooks; it is called once, outside any try, so an error thrown
        // further down the chain can never come back here and call it a second time.
        const finish = (principal: Principal) => {
          let refused: Error | undefined;
          try {
            admit(request, principal);
          } catch (error) {
            refused = error as Error;
          }
          done(refused);
        };
        let principal: Principal | Promise<Principal>;
        try {
          principal = authenticate(deps, request);
        } catch (error) {
          done(error as Error);
          return;
        }
        if (principal instanceof Promise)
          principal
            .then(finish, done)
            .catch((error) => request.log.error({ err: error }, 'a hook after authentication failed'));
        else finish(principal);
      },
      scope,
    );
  };
}

/**
 * An onRequest hook for the read-only operational views (fleet, overview, charts): any
 * signed-in dashboard user (admin or viewer) or an `admin:*` key. Bodies, logs, users, keys,
 * invitations and every write stay behind `requireScope('admin:*')`.
 */
export function createRequireReader(deps: AuthDeps) {
  return async (request: FastifyRequest) => {
    const principal = await authenticate(deps, request);
    if (principal.kind === 'api_key' && !scopeAllows(principal.scopes, 'admin:*')) {
      throw forbidden("This API key lacks the 'admin:*' scope", 'insufficient_scope');
    }
    request.principal = principal;
  };
}

/** An onRequest hook for routes about the signed-in dashboard user themself (`/v0/auth/me`, logout). */
export function createRequireUser(deps: AuthDeps) {
  return tagAuthRequirement(async (request: FastifyRequest) => {
    const principal = await authenticate(deps, request);
    if (principal.kind !== 'user')
      throw unauthorized('This route needs a dashboard session token', 'session_required');
    request.principal = principal;
  }, 'user');
}

/**
 * `/v1/models` accepts an `api:inference` caller or a registered node presenting its
 * `X-Node-Token` (the upstream contract lets nodes list the fleet's models).
 */
export function createRequireModelsAccess(
  requireScope: RequireScope,
  nodeForToken: (token: string) => { id: string } | undefined,
) {
  const requireInference = requireScope('api:inference');
  return tagAuthRequirement(function requireModelsAccess(
    this: FastifyInstance,
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) {
    const token = request.headers['x-node-token'];
    if (typeof token === 'string' && token !== '' && !readCredential(request)) {
      done(nodeForToken(token) ? undefined : unauthorized('Invalid node token', 'invalid_node_token'));
      return;
    }
    requireInference.call(this, request, reply, done);
  }, 'models');
}
