/**
 * The dashboard's browser session: the router sets the login JWT as an HttpOnly,
 * SameSite=Strict cookie, so page scripts never hold it. State-changing requests that ride
 * on that cookie must echo a CSRF token in `X-CSRF-Token`: the token is an HMAC of the session
 * (so it cannot be forged without the router's secret) and is also handed to the page in a
 * readable cookie (double submit). API clients keep sending `Authorization` and need neither.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'llm_router_session';
export const CSRF_COOKIE = 'llm_router_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads one cookie from the request's Cookie header (no cookie plugin needed for two names). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export class SessionCookies {
  constructor(private readonly secret: Uint8Array) {}

  /** The CSRF token bound to one session token. */
  csrfFor(sessionToken: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${sessionToken}`).digest('base64url');
  }

  /** True when a cookie-authenticated request may proceed: safe methods, or a matching token. */
  csrfOk(request: FastifyRequest, sessionToken: string): boolean {
    if (SAFE_METHODS.has(request.method)) return true;
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || sent === '') return false;
    const expected = Buffer.from(this.csrfFor(sessionToken));
    const given = Buffer.from(sent);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Sets the session and CSRF cookies after a successful login; returns the CSRF token. */
  start(request: FastifyRequest, reply: FastifyReply, sessionToken: string, maxAgeSeconds: number): string {
    const csrf = this.csrfFor(sessionToken);
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', [
      `${SESSION_COOKIE}=${sessionToken}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`,
      `${CSRF_COOKIE}=${csrf}; Path=/; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`,
    ]);
    return csrf;
  }

  /** Clears both cookies (logout). */
  end(reply: FastifyReply): void {
    reply.header('set-cookie', [
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
      `${CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0`,
    ]);
  }
}
