/**
 * Dashboard sessions are HS256 JWTs. The secret comes from LLM_ROUTER_JWT_SECRET, else a 0600
 * file in the data directory, else it is generated once and written to that file, so tokens
 * survive restarts without any configuration.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirSync } from '@llm-router/protocol';
import { jwtVerify, SignJWT } from 'jose';

export const JWT_LIFETIME_SECONDS = 24 * 60 * 60;

export interface UserTokenClaims {
  userId: string;
  role: 'admin' | 'viewer';
  generation: number;
}

export function loadJwtSecret(envSecret: string | undefined, dataDir: string): Uint8Array {
  if (envSecret) return new TextEncoder().encode(envSecret);
  const file = join(dataDir, 'jwt_secret');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length > 0) return new TextEncoder().encode(stored);
  }
  makeDirSync(dataDir);
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return new TextEncoder().encode(secret);
}

export class JwtIssuer {
  constructor(private readonly secret: Uint8Array) {}

  sign(claims: UserTokenClaims): Promise<string> {
    return (
      new SignJWT({ role: claims.role, gen: claims.generation })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.userId)
        // A unique id per login, so two sessions never share a token (nor its CSRF token).
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(`${JWT_LIFETIME_SECONDS}s`)
        .sign(this.secret)
    );
  }

  /** The claims of a valid token, or null for anything invalid or expired. */
  async verify(token: string): Promise<UserTokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'] });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || (role !== 'admin' && role !== 'viewer')) return null;
      return { userId: payload.sub, role, generation: typeof payload.gen === 'number' ? payload.gen : 0 };
    } catch {
      return null;
    }
  }
}
