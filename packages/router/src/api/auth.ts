/** Dashboard login: username + password in, a 24 h JWT out. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { JWT_LIFETIME_SECONDS, type JwtIssuer } from '../auth/jwt.js';
import { authenticateUser } from '../auth/users.js';
import { unauthorized } from '../http/errors.js';
import type { RouterDatabase } from '../store/database.js';
import { parseInput } from './validate.js';

const LoginSchema = z.object({ username: z.string().min(1).max(255), password: z.string().min(1).max(1024) });

export function registerAuthRoutes(app: FastifyInstance, deps: { db: RouterDatabase; jwt: JwtIssuer }): void {
  app.post('/v0/auth/login', async (request) => {
    const { username, password } = parseInput(LoginSchema, request.body);
    const user = await authenticateUser(deps.db, username, password);
    if (!user) throw unauthorized('Invalid username or password', 'invalid_credentials');
    const token = await deps.jwt.sign({ userId: user.id, role: user.role, generation: user.token_generation });
    return {
      token,
      expires_in: JWT_LIFETIME_SECONDS,
      user: { id: user.id, username: user.username, role: user.role },
    };
  });
}
