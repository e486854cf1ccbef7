/**
 * The OpenAI-compatible `/v1` routes. A request reads top to bottom here: validate the body,
 * hand a cloud-prefixed model to the cloud gateway, otherwise let the balancer and proxy send
 * it to a node, and report what happened (`onRequestFinished`) for request history.
 */
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  CountTokensRequestSchema,
  describeValidationError,
  EmbeddingRequestSchema,
  INFERENCE_ENDPOINTS,
  type InferenceEndpoint,
  type InferenceKind,
  MessagesRequestSchema,
  ResponsesRequestSchema,
} from '@llm-router/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { z } from 'zod';
import type { AdmissionController } from '../admission/controller.js';
import type { BalancerPolicy } from '../balancer/types.js';
import { CLOUD_PROVIDERS } from '../cloud/descriptors.js';
import type { CloudGateway, CloudModelEntry } from '../cloud/types.js';
import type { RouterConfig } from '../config/config.js';
import type { FleetView } from '../fleet/types.js';
import type { FinishedRequest, InferenceResult } from '../history/types.js';
import type { RequireScope } from '../http/auth-context.js';
import { badRequest } from '../http/errors.js';
import { describeRoutes, inferenceDoc } from '../http/openapi.js';
import { createNodeProxy, type NodeProxy } from '../proxy/forward.js';
import type { ResponseStore } from '../responses/store.js';
import { createInferenceRouting, modelNotFound } from './inference-routing.js';
import { registerMessagesRoutes } from './messages.js';
import { registerResponsesRoutes } from './responses.js';

export type { FinishedRequest } from '../history/types.js';

export interface OpenAIRouteDeps {
  fleet: FleetView;
  config: RouterConfig;
  requireScope: RequireScope;
  cloud?: CloudGateway;
  /** Models registered on the router (Hugging Face), listed even before any node has them. */
  registeredModels?: RegisteredModels;
  /** Guards `/v1/models`; the server also lets registered nodes in with their `X-Node-Token`. */
  requireModelsAccess?: onRequestHookHandler;
  balancer: BalancerPolicy;
  /** Called once per inference request, after the reply (streams: after the last byte). Must not throw. */
  onRequestFinished?: (finished: FinishedRequest, request: FastifyRequest) => void;
  /** Tests may inject a proxy; by default one is built (and closed with the app). */
  proxy?: NodeProxy;
  /** Admission control for node requests (router queue); absent means none. */
  admission?: AdmissionController;
  /** Stored OpenAI Responses; without it `/v1/responses` is not offered. */
  responses?: ResponseStore;
}

/** Cloud providers are asked for their model list for at most this long per `/v1/models`. */
const CLOUD_LIST_TIMEOUT_MS = 5_000;

const SCHEMAS: Record<InferenceKind, z.ZodType> = {
  chat: ChatCompletionRequestSchema,
  completions: CompletionRequestSchema,
  embeddings: EmbeddingRequestSchema,
};

const OPENAI_ENDPOINTS = INFERENCE_ENDPOINTS.filter((endpoint) => endpoint.format === 'openai');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function registerOpenAIRoutes(app: FastifyInstance, deps: OpenAIRouteDeps): void {
  const { fleet, cloud } = deps;
  const proxy =
    deps.proxy ??
    createNodeProxy({ fleet, balancer: deps.balancer, config: deps.config, admission: deps.admission });
  if (!deps.proxy) app.addHook('onClose', async () => proxy.close());
  const requireInference = deps.requireScope('api:inference');
  const routing = createInferenceRouting({ ...deps, proxy });
  describeRoutes(app, {
    'POST /v1/chat/completions': inferenceDoc(
      'Chat completion (SSE with `stream: true`)',
      ChatCompletionRequestSchema,
    ),
    'POST /v1/completions': inferenceDoc(
      'Text completion (SSE with `stream: true`)',
      CompletionRequestSchema,
    ),
    'POST /v1/embeddings': inferenceDoc('Embeddings', EmbeddingRequestSchema),
    'POST /v1/messages': {
      ...inferenceDoc('Anthropic Messages (SSE events with `stream: true`)', MessagesRequestSchema),
      headers: { 'anthropic-version': 'Accepted and ignored; `x-api-key` works as the credential too' },
    },
    'POST /v1/messages/count_tokens': {
      summary: "Count a Messages request's input tokens with the model's own tokenizer",
      body: CountTokensRequestSchema,
      responses: { 200: '`{ input_tokens }`', 404: 'not_found_error' },
    },
    'POST /v1/responses': inferenceDoc(
      'OpenAI Responses (SSE events with `stream: true`)',
      ResponsesRequestSchema,
    ),
    'GET /v1/responses/:id': {
      summary: 'A stored response created with the same API key or user',
      params: { id: 'The `resp_…` id' },
      responses: { 200: 'The response object', 404: 'Unknown, expired or foreign id' },
    },
    'DELETE /v1/responses/:id': {
      summary: 'Delete a stored response',
      params: { id: 'The `resp_…` id' },
      responses: {
        200: '`{ id, object: "response.deleted", deleted: true }`',
        404: 'Unknown, expired or foreign id',
      },
    },
    'GET /v1/models': {
      summary: 'Fleet, registered and cloud models, with `ready`, `lifecycle_status` and `download_progress`',
    },
    'GET /v1/models/*': {
      summary: 'One model',
      wildcard: 'model',
      responses: { 200: 'The model object', 404: 'model_not_found' },
    },
  });
  const requireModelsAccess = deps.requireModelsAccess ?? requireInference;

  async function routeInference(
    endpoint: InferenceEndpoint,
    body: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<InferenceResult> {
    if (!isRecord(body)) throw badRequest('Request body must be a JSON object', null, 'invalid_request');
    if (body.model === undefined || body.model === null) {
      throw badRequest('`model` field is required', 'model', 'invalid_request');
    }
    const parsed = SCHEMAS[endpoint.kind].safeParse(body);
    if (!parsed.success) {
      const { message, param } = describeValidationError(parsed.error);
      throw badRequest(message, param, 'invalid_request');
    }
    const model = body.model as string;
    const backend = routing.backendFor(model, endpoint.kind);
    return backend.forward({
      kind: endpoint.kind,
      model,
      body: parsed.data as Record<string, unknown>,
      rawBody: request.rawBody,
      request,
      reply,
    });
  }

  for (const endpoint of OPENAI_ENDPOINTS) {
    app.post(endpoint.path, { onRequest: requireInference }, (request, reply) =>
      routing.handle(endpoint, request, reply, () => routeInference(endpoint, request.body, request, reply)),
    );
  }
  registerMessagesRoutes(app, routing, requireInference);
  if (deps.responses) registerResponsesRoutes(app, routing, requireInference, deps.responses);

  async function listCloudModels(request: FastifyRequest): Promise<ModelObject[]> {
    if (!cloud) return [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CLOUD_LIST_TIMEOUT_MS);
      });
      const entries = await Promise.race([cloud.listModels(), timeout]);
      return entries.map(cloudModelObject);
    } catch (error) {
      // The local fleet's models are still worth listing when a provider is down.
      request.log.warn({ err: error }, 'cloud model list unavailable');
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  const localModels = () => mergeRegistered(fleetModels(fleet), deps.registeredModels?.listForApi() ?? []);

  app.get('/v1/models', { onRequest: requireModelsAccess }, async (request) => {
    const local = [...localModels().values()].sort((a, b) => a.id.localeCompare(b.id));
    const data = [...local, ...(await listCloudModels(request))];
    if (wantsAnthropicShape(request)) return anthropicModelList(data);
    return { object: 'list', data };
  });

  // A wildcard, because model ids may contain slashes (`org/name`).
  app.get('/v1/models/*', { onRequest: requireModelsAccess }, async (request) => {
    const id = (request.params as { '*': string })['*'];
    const local = localModels().get(id) ?? localModels().get(id.toLowerCase());
    const shape = (model: ModelObject) => (wantsAnthropicShape(request) ? anthropicModel(model) : model);
    if (local) return shape(local);
    if (cloud?.parseModel(id)) {
      const match = (await listCloudModels(request)).find((model) => model.id === id);
      if (match) return shape(match);
    }
    throw modelNotFound(id);
  });
}

interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** True when at least one online node has the model ready (cloud models: always). */
  ready: boolean;
  nodes: Array<{ node_id: string; machine_name: string; status: string; ready: boolean }>;
  capabilities: { chat_completion: boolean; completion: boolean; embeddings: boolean };
  /** For registered models: the router's cache state (`pending`, `caching`, `registered`, `error`). */
  lifecycle_status?: string;
  download_progress?: unknown;
  servable?: boolean;
  servable_reason?: string | null;
}

/** The slice of the model registry the `/v1` routes read. */
export interface RegisteredModels {
  listForApi(): RegisteredModelEntry[];
  getForApi(id: string): RegisteredModelEntry | undefined;
}

export interface RegisteredModelEntry {
  id: string;
  created: number;
  lifecycle_status: string;
  download_progress: unknown;
  servable: boolean;
  servable_reason: string | null;
  capabilities: ModelObject['capabilities'];
}

/**
 * The fleet's models plus registered ones no node has yet. Readiness stays the fleet's call: a
 * model is ready when an online node has it loaded.
 */
function mergeRegistered(fleetView: Map<string, ModelObject>, registered: RegisteredModelEntry[]) {
  for (const entry of registered) {
    const registryFields = {
      lifecycle_status: entry.lifecycle_status,
      download_progress: entry.download_progress,
      servable: entry.servable,
      servable_reason: entry.servable_reason,
    };
    const local = fleetView.get(entry.id);
    if (local) Object.assign(local, registryFields, { created: entry.created });
    else
      fleetView.set(entry.id, {
        id: entry.id,
        object: 'model',
        created: entry.created,
        owned_by: 'router',
        ready: false,
        nodes: [],
        capabilities: entry.capabilities,
        ...registryFields,
      });
  }
  return fleetView;
}

/**
 * Every model any node lists, with the nodes that have it. A node that declares no
 * capabilities for a model is taken to serve text generation (what llama.cpp serves by default).
 */
function fleetModels(fleet: FleetView): Map<string, ModelObject> {
  const models = new Map<string, ModelObject>();
  const declared = new Map<string, Set<string>>();
  for (const node of fleet.all()) {
    for (const model of node.models) {
      let entry = models.get(model.id);
      if (!entry) {
        entry = {
          id: model.id,
          object: 'model',
          created: 0,
          owned_by: 'router',
          ready: false,
          nodes: [],
          capabilities: { chat_completion: false, completion: false, embeddings: false },
        };
        models.set(model.id, entry);
      }
      entry.nodes.push({
        node_id: node.id,
        machine_name: node.machineName,
        status: node.status,
        ready: model.ready,
      });
      if (node.status === 'online' && model.ready) entry.ready = true;
      if (model.capabilities) {
        const caps = declared.get(model.id) ?? new Set<string>();
        for (const capability of model.capabilities) caps.add(capability);
        declared.set(model.id, caps);
      }
    }
  }
  for (const entry of models.values()) {
    const caps = declared.get(entry.id) ?? new Set(['chat']);
    entry.capabilities = {
      chat_completion: caps.has('chat'),
      completion: caps.has('chat') || caps.has('completion'),
      embeddings: caps.has('embeddings'),
    };
  }
  return models;
}

function cloudModelObject(entry: CloudModelEntry): ModelObject {
  return {
    id: entry.id,
    object: 'model',
    created: 0,
    owned_by: entry.provider,
    ready: true,
    nodes: [],
    capabilities: { ...CLOUD_PROVIDERS.find((provider) => provider.name === entry.provider)!.capabilities },
  };
}

/** Anthropic SDKs send `anthropic-version`; they get the model list in Anthropic's shape. */
const wantsAnthropicShape = (request: FastifyRequest) =>
  typeof request.headers['anthropic-version'] === 'string';

function anthropicModel(model: ModelObject) {
  return {
    type: 'model',
    id: model.id,
    display_name: model.id,
    created_at: new Date(model.created * 1000).toISOString(),
  };
}

function anthropicModelList(models: ModelObject[]) {
  const data = models.map(anthropicModel);
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
