/** API key administration. The plaintext key appears only in the creation response. */
import { API_KEY_SCOPES } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiKeyRecord, ApiKeyStore } from '../auth/api-keys.js';
import { actingUserId, type RequireScope } from '../http/auth-context.js';
import { badRequest, notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import { LimitsSchema, normaliseLimits } from '../limits/spec.js';
import { isoTime } from './json-time.js';
import { parseInput } from './validate.js';

const CreateApiKeySchema = z.object({
  name: z.string().trim().min(1).max(255),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
  expires_at: z.iso.datetime({ offset: true }).nullish(),
  /** Rate limits and token budgets (see README, "Limits and budgets"); null or {} = none. */
  limits: LimitsSchema.nullish(),
});

const UpdateApiKeySchema = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    expires_at: z.iso.datetime({ offset: true }).nullish(),
    limits: LimitsSchema.nullish(),
  })
  .refine((v) => v.name !== undefined || v.expires_at !== undefined || v.limits !== undefined, {
    message: 'give name, expires_at and/or limits',
  });

function parseExpiry(value: string | null | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const at = Date.parse(value);
  if (at <= Date.now()) throw badRequest('expires_at must be in the future', 'expires_at');
  return at;
}

export function apiKeyToJson(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    key_prefix: record.keyPrefix,
    scopes: record.scopes,
    created_by: record.createdBy,
    created_at: isoTime(record.createdAt),
    expires_at: isoTime(record.expiresAt),
    last_used_at: isoTime(record.lastUsedAt),
    limits: record.limits,
  };
}

export function registerApiKeyRoutes(
  app: FastifyInstance,
  deps: { apiKeys: ApiKeyStore; requireScope: RequireScope },
): void {
  const admin = deps.requireScope('admin:*');
  describeRoutes(app, {
    'POST /v0/api-keys': {
      summary: 'Create an API key (`sk_…`, shown only in this reply)',
      body: CreateApiKeySchema,
      responses: { 201: 'The key record with its plaintext `key`' },
    },
    'GET /v0/api-keys': {
      summary: 'List API keys (prefixes only)',
      responses: { 200: '`{api_keys: [...]}`' },
    },
    'PUT /v0/api-keys/:id': {
      summary: 'Rename an API key or change its expiry',
      body: UpdateApiKeySchema,
      responses: { 200: 'The key record', 404: 'No such key' },
    },
    'DELETE /v0/api-keys/:id': {
      summary: 'Revoke an API key',
      responses: { 204: 'Revoked', 404: 'No such key' },
    },
  });

  app.post('/v0/api-keys', { onRequest: admin }, async (request, reply) => {
    const input = parseInput(CreateApiKeySchema, request.body);
    const expiresAt = parseExpiry(input.expires_at) ?? null;
    const createdBy = actingUserId(request.principal);
    const { key, record } = await deps.apiKeys.create({
      name: input.name,
      scopes: input.scopes,
      expiresAt,
      createdBy,
      limits: normaliseLimits(input.limits),
    });
    return reply.code(201).send({ ...apiKeyToJson(record), key });
  });

  app.get('/v0/api-keys', { onRequest: admin }, async () => ({
    api_keys: deps.apiKeys.list().map(apiKeyToJson),
  }));

  app.put<{ Params: { id: string } }>('/v0/api-keys/:id', { onRequest: admin }, async (request) => {
    const input = parseInput(UpdateApiKeySchema, request.body);
    const record = await deps.apiKeys.update(request.params.id, {
      name: input.name,
      expiresAt: parseExpiry(input.expires_at),
      limits: input.limits === undefined ? undefined : normaliseLimits(input.limits),
    });
    if (!record) throw notFound('API key not found', 'api_key_not_found');
    return apiKeyToJson(record);
  });

  app.delete<{ Params: { id: string } }>('/v0/api-keys/:id', { onRequest: admin }, async (request, reply) => {
    if (!(await deps.apiKeys.revoke(request.params.id)))
      throw notFound('API key not found', 'api_key_not_found');
    return reply.code(204).send();
  });
}
