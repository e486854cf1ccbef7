/**
 * Fleet administration for admins: remove, disconnect, approve, label nodes, read a node's log
 * tail and its metrics history.
 */
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { request as undiciRequest } from 'undici';
import { z } from 'zod';
import type { NodeRegistry } from '../fleet/registry.js';
import type { RequireScope } from '../http/auth-context.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import { nodeToJson } from './node-view.js';
import { parseInput } from './validate.js';

const NODE_LOGS_TIMEOUT_MS = 10_000;
/** 1000 log entries fit easily; a node sending more is misbehaving. */
const NODE_LOGS_MAX_BYTES = 4 * 1024 * 1024;

async function readJsonCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new HttpError(
        502,
        'The node sent a log reply larger than the router accepts',
        'node_upstream_error',
      );
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(502, 'The node sent a log reply that is not JSON', 'node_upstream_error');
  }
}

/** Trims text; an empty value clears the setting. */
const clearable = z
  .string()
  .max(1000)
  .nullable()
  .transform((v) => (v === null || v.trim() === '' ? null : v.trim()));

const SettingsSchema = z.object({
  custom_name: clearable.optional(),
  notes: clearable.optional(),
  tags: z
    .array(z.string().max(64))
    .max(32)
    .nullable()
    .transform((tags) => [...new Set((tags ?? []).map((t) => t.trim()).filter((t) => t !== ''))])
    .optional(),
});

const LogsQuery = z.object({ limit: z.coerce.number().int().default(200) });

type IdParams = { Params: { id: string } };

export function registerNodeAdminRoutes(
  app: FastifyInstance,
  deps: { registry: NodeRegistry; requireScope: RequireScope; requireReader?: onRequestAsyncHookHandler },
): void {
  const admin = deps.requireScope('admin:*');
  const reader = deps.requireReader ?? admin;
  describeRoutes(app, {
    'DELETE /v0/nodes/:id': { summary: 'Delete a node', responses: { 204: 'Deleted', 404: 'No such node' } },
    'POST /v0/nodes/:id/disconnect': {
      summary: 'Mark a node offline',
      responses: { 202: 'The node', 404: 'No such node' },
    },
    'POST /v0/nodes/:id/approve': {
      summary: 'Approve a pending node',
      responses: { 200: 'The node', 400: 'Node is not pending', 404: 'No such node' },
    },
    'PUT /v0/nodes/:id/settings': {
      summary: 'Set custom_name, tags, notes (null or empty clears)',
      body: SettingsSchema,
      responses: { 200: 'The node', 404: 'No such node' },
    },
    'GET /v0/nodes/:id/logs': {
      summary: "Tail a node's log (proxied from the node; limit 1..1000, default 200)",
      query: LogsQuery,
      responses: {
        200: '`{source, entries, path}`',
        404: 'No such node',
        502: 'Node unreachable or bad reply',
        503: 'Node offline',
        504: 'Node too slow',
      },
    },
    'GET /v0/dashboard/metrics/:node_id': {
      summary: "A node's metrics history (heartbeat samples)",
      responses: { 200: '`{node_id, samples}`', 404: 'No such node' },
    },
  });
  const { registry } = deps;
  const nodeOr404 = (id: string) => {
    const node = registry.get(id);
    if (!node) throw notFound(`Node ${id} not found`, 'node_not_found');
    return node;
  };

  app.delete<IdParams>('/v0/nodes/:id', { onRequest: admin }, async (request, reply) => {
    if (!(await registry.remove(request.params.id))) throw notFound('Node not found', 'node_not_found');
    return reply.code(204).send();
  });

  app.post<IdParams>('/v0/nodes/:id/disconnect', { onRequest: admin }, async (request, reply) => {
    const node = await registry.disconnect(request.params.id);
    if (!node) throw notFound('Node not found', 'node_not_found');
    return reply.code(202).send(nodeToJson(node));
  });

  app.post<IdParams>('/v0/nodes/:id/approve', { onRequest: admin }, async (request) => {
    const result = await registry.approve(request.params.id);
    if (result === 'unknown') throw notFound('Node not found', 'node_not_found');
    if (result === 'not_pending') throw badRequest('Node is not waiting for approval', null, 'not_pending');
    return nodeToJson(result);
  });

  app.put<IdParams>('/v0/nodes/:id/settings', { onRequest: admin }, async (request) => {
    const input = parseInput(SettingsSchema, request.body);
    const node = await registry.updateSettings(request.params.id, {
      customName: input.custom_name,
      notes: input.notes,
      tags: input.tags,
    });
    if (!node) throw notFound('Node not found', 'node_not_found');
    return nodeToJson(node);
  });

  app.get<IdParams>('/v0/nodes/:id/logs', { onRequest: admin }, async (request) => {
    const node = nodeOr404(request.params.id);
    const parsed = LogsQuery.safeParse(request.query);
    if (!parsed.success) throw badRequest('limit must be an integer', 'limit');
    const limit = Math.min(1000, Math.max(1, parsed.data.limit));
    if (node.status === 'offline') throw new HttpError(503, 'Node is offline', 'node_offline');
    try {
      const res = await undiciRequest(`${node.baseUrl}/v0/logs?tail=${limit}`, {
        signal: AbortSignal.timeout(NODE_LOGS_TIMEOUT_MS),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new HttpError(502, `Node answered ${res.statusCode} for its logs`, 'node_upstream_error');
      }
      const body = (await readJsonCapped(res.body, NODE_LOGS_MAX_BYTES)) as {
        entries?: unknown[];
        path?: string;
      };
      return { source: `node:${node.machineName}`, entries: body.entries ?? [], path: body.path ?? null };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new HttpError(
        timedOut ? 504 : 502,
        timedOut ? 'Node did not send its logs in time' : 'Could not reach the node',
        timedOut ? 'node_timeout' : 'node_unreachable',
      );
    }
  });

  app.get<{ Params: { node_id: string } }>(
    '/v0/dashboard/metrics/:node_id',
    { onRequest: reader },
    async (request) => {
      const samples = registry.metricsFor(request.params.node_id);
      if (!samples) throw notFound('Node not found', 'node_not_found');
      return { node_id: request.params.node_id, samples };
    },
  );
}
