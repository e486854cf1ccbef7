/**
 * Dashboard sessions: login (throttled against guessing), the current user, logout (which
 * really revokes the token) and sign-up with an invitation code. Login also sets the browser
 * session cookie (HttpOnly, SameSite=Strict) and returns its CSRF token; logout clears it.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { redeemInvitation } from '../auth/invitations.js';
import { JWT_LIFETIME_SECONDS, type JwtIssuer } from '../auth/jwt.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { authenticateUser, endSessions } from '../auth/users.js';
import { badRequest, HttpError, unauthorized } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import type { SessionCookies } from '../http/session.js';
import type { RouterDatabase } from '../store/database.js';
import { isoTime } from './json-time.js';
import { parseInput } from './validate.js';

const LoginSchema = z.object({ username: z.string().min(1).max(255), password: z.string().min(1).max(1024) });

export const UsernameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, 'use letters, digits and . _ @ - only');
export const PasswordSchema = z.string().min(8, 'must be at least 8 characters').max(1024);

const RegisterSchema = z.object({
  invitation_code: z.string().min(1).max(64),
  username: UsernameSchema,
  password: PasswordSchema,
});

export interface AuthRoutesDeps {
  db: RouterDatabase;
  jwt: JwtIssuer;
  throttle: LoginThrottle;
  requireUser: onRequestAsyncHookHandler;
  session?: SessionCookies;
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): void {
  describeRoutes(app, {
    'POST /v0/auth/login': {
      summary: 'Sign in to the dashboard; returns a session JWT (24 h)',
      body: LoginSchema,
      responses: { 200: '`{token, expires_in, user}`', 429: 'Too many failed logins (Retry-After)' },
    },
    'GET /v0/auth/me': { summary: 'The signed-in user', responses: { 200: '`{user_id, username, role}`' } },
    'POST /v0/auth/logout': {
      summary: 'Sign out: revokes every session token of this user',
      responses: { 204: 'Signed out' },
    },
    'POST /v0/auth/register': {
      summary: 'Create an account (role viewer) with an invitation code',
      body: RegisterSchema,
      responses: { 201: 'The new user', 409: 'Username already exists' },
    },
  });
  app.post('/v0/auth/login', async (request, reply) => {
    const { username, password } = parseInput(LoginSchema, request.body);
    const retryAfter = deps.throttle.begin(username, request.ip);
    if (retryAfter > 0) {
      throw new HttpError(429, 'Too many failed logins; try again later', 'too_many_attempts', null, {
        'retry-after': String(retryAfter),
      });
    }
    let user: Awaited<ReturnType<typeof authenticateUser>> = null;
    try {
      user = await authenticateUser(deps.db, username, password);
    } finally {
      deps.throttle.finish(username, request.ip, user !== null);
    }
    if (!user) throw unauthorized('Invalid username or password', 'invalid_credentials');
    const token = await deps.jwt.sign({
      userId: user.id,
      role: user.role,
      generation: user.token_generation,
    });
    const csrf = deps.session?.start(request, reply, token, JWT_LIFETIME_SECONDS);
    return {
      token,
      expires_in: JWT_LIFETIME_SECONDS,
      user: { id: user.id, username: user.username, role: user.role },
      ...(csrf ? { csrf_token: csrf } : {}),
    };
  });

  app.get('/v0/auth/me', { onRequest: deps.requireUser }, async (request) => {
    const principal = request.principal;
    if (principal?.kind !== 'user') throw unauthorized('Not signed in', 'session_required');
    return { user_id: principal.userId, username: principal.username, role: principal.role };
  });

  app.post('/v0/auth/logout', { onRequest: deps.requireUser }, async (request, reply) => {
    if (request.principal?.kind === 'user') await endSessions(deps.db, request.principal.userId);
    deps.session?.end(reply);
    return reply.code(204).send();
  });

  app.post('/v0/auth/register', async (request, reply) => {
    const input = parseInput(RegisterSchema, request.body);
    const result = await redeemInvitation(deps.db, input.invitation_code, input.username, input.password);
    if (!result.ok) {
      if (result.reason === 'username_taken')
        throw new HttpError(409, 'Username already exists', 'username_taken');
      throw badRequest(
        'Invitation code is invalid, used, revoked or expired',
        'invitation_code',
        'invalid_invitation',
      );
    }
    const { user } = result;
    return reply
      .code(201)
      .send({ id: user.id, username: user.username, role: user.role, created_at: isoTime(user.created_at) });
  });
}
