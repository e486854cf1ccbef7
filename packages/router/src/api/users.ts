/** User administration (admins only). The last admin can be neither deleted nor demoted. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  createUser,
  deleteUser,
  findUserByName,
  LastAdminError,
  listUsers,
  type UserRow,
  updateUser,
} from '../auth/users.js';
import type { RequireScope } from '../http/auth-context.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import { LimitsSchema, limitsFromColumn, normaliseLimits } from '../limits/spec.js';
import type { UserLimits } from '../limits/user-limits.js';
import type { RouterDatabase } from '../store/database.js';
import { PasswordSchema, UsernameSchema } from './auth.js';
import { isoTime } from './json-time.js';
import { parseInput } from './validate.js';

const Role = z.enum(['admin', 'viewer']);
const CreateUserSchema = z.object({ username: UsernameSchema, password: PasswordSchema, role: Role });
const UpdateUserSchema = z
  .object({
    username: UsernameSchema.optional(),
    password: PasswordSchema.optional(),
    role: Role.optional(),
    /** Rate limits and token budgets for this user's dashboard sessions; null clears them. */
    limits: LimitsSchema.nullish(),
  })
  .refine(
    (v) =>
      v.username !== undefined || v.password !== undefined || v.role !== undefined || v.limits !== undefined,
    { message: 'give at least one of username, password, role, limits' },
  );

export const userToJson = (u: UserRow) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  created_at: isoTime(u.created_at),
  last_login: isoTime(u.last_login),
  limits: limitsFromColumn(u.limits),
});

const usernameTaken = () => new HttpError(409, 'Username already exists', 'username_taken');
const lastAdmin = (error: unknown) =>
  error instanceof LastAdminError ? badRequest(error.message, null, 'last_admin') : error;

export function registerUserRoutes(
  app: FastifyInstance,
  deps: { db: RouterDatabase; requireScope: RequireScope; userLimits?: UserLimits },
) {
  const admin = deps.requireScope('admin:*');
  describeRoutes(app, {
    'GET /v0/users': { summary: 'List users', responses: { 200: '`{users: [...]}`' } },
    'POST /v0/users': {
      summary: 'Create a user',
      body: CreateUserSchema,
      responses: { 201: 'The user', 409: 'Username already exists' },
    },
    'PUT /v0/users/:id': {
      summary: 'Change a user (name, password, role); the last admin cannot be demoted',
      body: UpdateUserSchema,
      responses: { 200: 'The user', 404: 'No such user', 409: 'Username already exists' },
    },
    'DELETE /v0/users/:id': {
      summary: 'Delete a user (not the last admin)',
      responses: { 204: 'Deleted', 404: 'No such user' },
    },
  });

  app.get('/v0/users', { onRequest: admin }, async () => ({
    users: (await listUsers(deps.db)).map(userToJson),
  }));

  app.post('/v0/users', { onRequest: admin }, async (request, reply) => {
    const input = parseInput(CreateUserSchema, request.body);
    if (await findUserByName(deps.db, input.username)) throw usernameTaken();
    const user = await createUser(deps.db, input);
    return reply.code(201).send(userToJson(user));
  });

  app.put<{ Params: { id: string } }>('/v0/users/:id', { onRequest: admin }, async (request) => {
    const input = parseInput(UpdateUserSchema, request.body);
    if (input.username !== undefined) {
      const other = await findUserByName(deps.db, input.username);
      if (other && other.id !== request.params.id) throw usernameTaken();
    }
    const { limits, ...changes } = input;
    if (limits !== undefined && deps.userLimits) {
      if (!(await deps.userLimits.set(request.params.id, normaliseLimits(limits))))
        throw notFound('User not found', 'user_not_found');
    }
    const user = await updateUser(deps.db, request.params.id, changes).catch((e) => {
      throw lastAdmin(e);
    });
    if (!user) throw notFound('User not found', 'user_not_found');
    return userToJson(user);
  });

  app.delete<{ Params: { id: string } }>('/v0/users/:id', { onRequest: admin }, async (request, reply) => {
    const deleted = await deleteUser(deps.db, request.params.id).catch((e) => {
      throw lastAdmin(e);
    });
    if (!deleted) throw notFound('User not found', 'user_not_found');
    return reply.code(204).send();
  });
}
