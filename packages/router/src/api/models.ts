/**
 * Model routes (issue 4). Admin: register, delete, discover. Node feed (`node:register`, which
 * `admin:*` implies): the model list, one model, manifests, files and the legacy blob.
 * Model ids contain slashes: every route takes them nested (`org/name`) or encoded
 * (`org%2Fname`), parsed from the raw URL so that traversal attempts are a 400 before any lookup.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequireScope } from '../http/auth-context.js';
import { notFound } from '../http/errors.js';
import { describeRoutes } from '../http/openapi.js';
import { DiscoverSchema } from '../models/discover.js';
import { sendModelFile } from '../models/file-serving.js';
import { modelIdFromSegments, parseRegistryPath, rawSegmentsAfter } from '../models/ids.js';
import { RegisterModelSchema } from '../models/register.js';
import type { ModelService } from '../models/service.js';
import { parseInput } from './validate.js';

export interface ModelRoutesDeps {
  models: ModelService;
  requireScope: RequireScope;
}

const modelIdAfter = (request: FastifyRequest, prefix: string) =>
  modelIdFromSegments(rawSegmentsAfter(request.url, prefix));

export function registerModelRoutes(app: FastifyInstance, deps: ModelRoutesDeps): void {
  const { models } = deps;
  const admin = deps.requireScope('admin:*');
  const node = deps.requireScope('node:register');
  describeRoutes(app, {
    'POST /v0/models/register': {
      summary: 'Register a Hugging Face model; it is cached in the background',
      body: RegisterModelSchema,
      responses: {
        201: 'The model with lifecycle_status and warnings',
        400: 'Invalid input or already registered',
      },
    },
    'POST /v0/models/discover-gguf': {
      summary: 'Find GGUF repositories for a model (trusted providers first)',
      body: DiscoverSchema,
    },
    'GET /v0/models': { summary: 'Registered models with lifecycle and progress (also the node sync feed)' },
    'GET /v0/models/registry/*': {
      summary: "A model's manifest.json or one of its files (node sync)",
      wildcard: 'file_path',
      params: { file_path: '`<model>/manifest.json` or `<model>/files/<file>`' },
      responses: {
        200: { description: 'Manifest JSON or file bytes', contentType: 'application/octet-stream' },
        404: 'Unknown model or file',
      },
    },
    'GET /v0/models/blob/*': {
      summary: "A model's GGUF file (legacy node sync)",
      wildcard: 'model',
      responses: {
        200: { description: 'The file', contentType: 'application/octet-stream' },
        404: 'Unknown model',
      },
    },
    'GET /v0/models/*': {
      summary: 'One registered model: lifecycle_status, download progress, error',
      wildcard: 'model',
      responses: { 200: 'The model', 404: 'Not registered' },
    },
    'DELETE /v0/models/*': {
      summary: 'Delete a registered model and its cached files',
      wildcard: 'model',
      responses: { 204: 'Deleted', 404: 'Not registered' },
    },
  });

  app.post('/v0/models/register', { onRequest: admin }, async (request, reply) => {
    const input = parseInput(RegisterModelSchema, request.body);
    return reply.code(201).send(await models.register(input));
  });

  app.post('/v0/models/discover-gguf', { onRequest: admin }, async (request) => {
    const { model } = parseInput(DiscoverSchema, request.body);
    return models.discovery.discover(model);
  });

  app.get('/v0/models', { onRequest: node }, async (_request, reply) => {
    reply.header('x-models-version', String(models.modelsVersion()));
    return models.feed();
  });

  app.get('/v0/models/registry/*', { onRequest: node }, async (request, reply) => {
    const target = parseRegistryPath(rawSegmentsAfter(request.url, '/v0/models/registry/'));
    if (!target)
      throw notFound('Use /v0/models/registry/<model>/manifest.json or /files/<file>', 'not_found');
    if (target.kind === 'manifest') return models.manifest(target.modelId);
    return sendModelFile(request, reply, models.file(target.modelId, target.file));
  });

  app.get('/v0/models/blob/*', { onRequest: node }, async (request, reply) =>
    sendModelFile(request, reply, models.blob(modelIdAfter(request, '/v0/models/blob/'))),
  );

  app.get('/v0/models/*', { onRequest: node }, async (request) =>
    models.detail(modelIdAfter(request, '/v0/models/')),
  );

  app.delete('/v0/models/*', { onRequest: admin }, async (request, reply) => {
    const id = modelIdAfter(request, '/v0/models/');
    if (!(await models.remove(id))) throw notFound(`Model '${id}' is not registered`, 'model_not_found');
    return reply.code(204).send();
  });
}
