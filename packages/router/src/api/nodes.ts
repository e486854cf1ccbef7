/**
 * Node-facing routes: registration (`POST /v0/nodes`) and heartbeats (`POST /v0/health`), plus
 * the admin fleet listing. Both node routes need a `node:register` key; heartbeats also need
 * the `X-Node-Token` issued to that very node at registration.
 */
import {
  HeartbeatRequestSchema,
  type HeartbeatResponse,
  HeartbeatResponseSchema,
  RegisterNodeRequestSchema,
  RegisterNodeResponseSchema,
} from '@llm-router/protocol';
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { NodeRegistry, RegisterInput } from '../fleet/registry.js';
import type { RequireScope } from '../http/auth-context.js';
import { HttpError, notFound, unauthorized } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import { nodeToJson } from './node-view.js';
import { parseInput } from './validate.js';

export interface NodeRoutesDeps {
  registry: NodeRegistry;
  requireScope: RequireScope;
  /** Who may list the fleet (viewers too); defaults to admin only. */
  requireReader?: onRequestAsyncHookHandler;
  allowNoGpu: boolean;
  heartbeatIntervalSecs: number;
  /** Version of the router's model set; nodes re-sync when it changes. */
  modelsVersion: () => number;
}

/** The router's side of the GPU rule: a node must report at least one real GPU device. */
export function gpuRejection(input: RegisterInput): string | null {
  const devicesOk =
    input.gpu_devices.length > 0 && input.gpu_devices.every((d) => d.count > 0 && d.model.trim() !== '');
  if (input.gpu_available && devicesOk) return null;
  return (
    'GPU hardware is required for node registration: this node reported no usable GPU. ' +
    'Set LLM_ROUTER_ALLOW_NO_GPU=true on the router (and LLM_ALLOW_NO_GPU=true on the node) to allow CPU-only nodes.'
  );
}

export function registerNodeRoutes(app: FastifyInstance, deps: NodeRoutesDeps): void {
  const nodeKey = deps.requireScope('node:register');
  describeRoutes(app, {
    'POST /v0/nodes': {
      summary: 'Register a node (called by nodes); returns its `nt_…` node token',
      body: RegisterNodeRequestSchema,
      responses: {
        200: { description: 'Known node updated', schema: RegisterNodeResponseSchema },
        201: { description: 'Node registered', schema: RegisterNodeResponseSchema },
        403: 'No usable GPU (unless the router allows CPU-only nodes)',
        409: 'Node id in use by an online node',
      },
    },
    'POST /v0/health': {
      summary: 'Node heartbeat with metrics (called by nodes)',
      body: HeartbeatRequestSchema,
      headers: { 'X-Node-Token': 'The node token issued at registration' },
      responses: {
        200: { description: 'Accepted', schema: HeartbeatResponseSchema },
        404: 'Unknown node: register again',
      },
    },
    'GET /v0/nodes': {
      summary: 'List nodes with status, models and latest metrics',
      responses: { 200: 'Array of nodes' },
    },
  });

  app.post('/v0/nodes', { onRequest: nodeKey }, async (request, reply) => {
    const input = parseInput(RegisterNodeRequestSchema, request.body);
    const rejection = deps.allowNoGpu ? null : gpuRejection(input);
    if (rejection) throw new HttpError(403, rejection, 'gpu_required');
    const presented = request.headers['x-node-token'];
    const result = await deps.registry.register(input, typeof presented === 'string' ? presented : undefined);
    if ('conflict' in result) {
      throw new HttpError(
        409,
        `Node ${input.node_id} is registered and online; re-register with its X-Node-Token, or wait until it goes offline`,
        'node_id_in_use',
      );
    }
    const { node, created, token } = result;
    return reply.code(created ? 201 : 200).send({
      node_id: node.id,
      status: created ? 'registered' : 'updated',
      node_status: node.status,
      node_api_port: node.nodeApiPort,
      node_token: token,
      heartbeat_interval_secs: deps.heartbeatIntervalSecs,
      models_version: deps.modelsVersion(),
    });
  });

  app.post('/v0/health', { onRequest: nodeKey }, async (request) => {
    const token = request.headers['x-node-token'];
    if (typeof token !== 'string' || token === '') {
      throw unauthorized('Missing X-Node-Token header', 'missing_node_token');
    }
    const input = parseInput(HeartbeatRequestSchema, request.body);
    const result = deps.registry.heartbeat(token, input);
    if (!result.ok) {
      if (result.reason === 'unknown_node') {
        throw notFound(`Node ${input.node_id} is not registered; register again`, 'node_not_found');
      }
      throw unauthorized('Invalid node token for this node', 'invalid_node_token');
    }
    const body: HeartbeatResponse = { node_status: result.node.status, models_version: deps.modelsVersion() };
    return body;
  });

  app.get('/v0/nodes', { onRequest: deps.requireReader ?? deps.requireScope('admin:*') }, async () =>
    deps.registry.all().map(nodeToJson),
  );
}
