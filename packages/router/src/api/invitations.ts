/** Invitation administration: an admin creates a one-use code; `/v0/auth/register` redeems it. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  createInvitation,
  type InvitationRow,
  listInvitations,
  revokeInvitation,
} from '../auth/invitations.js';
import { actingUserId, type RequireScope } from '../http/auth-context.js';
import { notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import type { RouterDatabase } from '../store/database.js';
import { isoTime } from './json-time.js';
import { parseInput } from './validate.js';

const CreateInvitationSchema = z.object({
  expires_in_hours: z
    .number()
    .positive()
    .max(24 * 365)
    .default(72),
});

function invitationToJson(row: InvitationRow, now = Date.now()) {
  const status = row.status === 'active' && row.expires_at <= now ? 'expired' : row.status;
  return {
    id: row.id,
    status,
    created_by: row.created_by,
    created_at: isoTime(row.created_at),
    expires_at: isoTime(row.expires_at),
    used_by: row.used_by,
    used_at: isoTime(row.used_at),
  };
}

export function registerInvitationRoutes(
  app: FastifyInstance,
  deps: { db: RouterDatabase; requireScope: RequireScope },
): void {
  const admin = deps.requireScope('admin:*');
  describeRoutes(app, {
    'GET /v0/invitations': { summary: 'List invitations', responses: { 200: '`{invitations: [...]}`' } },
    'POST /v0/invitations': {
      summary: 'Create a one-use invitation code (`inv_…`, shown once)',
      body: CreateInvitationSchema,
      responses: { 201: 'The invitation with its `code`' },
    },
    'DELETE /v0/invitations/:id': {
      summary: 'Revoke an invitation',
      responses: { 204: 'Revoked', 404: 'No such invitation' },
    },
  });

  app.get('/v0/invitations', { onRequest: admin }, async () => ({
    invitations: (await listInvitations(deps.db)).map((row) => invitationToJson(row)),
  }));

  app.post('/v0/invitations', { onRequest: admin }, async (request, reply) => {
    const input = parseInput(CreateInvitationSchema, request.body ?? {});
    const createdBy = actingUserId(request.principal);
    const { row, code } = await createInvitation(deps.db, createdBy, input.expires_in_hours);
    return reply.code(201).send({ ...invitationToJson(row), code });
  });

  app.delete<{ Params: { id: string } }>(
    '/v0/invitations/:id',
    { onRequest: admin },
    async (request, reply) => {
      if (!(await revokeInvitation(deps.db, request.params.id)))
        throw notFound('Invitation not found', 'not_found');
      return reply.code(204).send();
    },
  );
}
