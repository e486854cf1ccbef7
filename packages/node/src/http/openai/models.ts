/**
 * `GET /v1/models` and `GET /v1/models/<id>`: every model the node has, with its readiness.
 * Synced ids have a slash (`org/name`); the id is accepted nested or encoded (`org%2Fname`).
 */
import type { FastifyInstance } from 'fastify';
import type { ManagedModel } from '../../models/model-manager.js';
import type { NodeServices } from '../../services.js';
import { HttpError } from '../errors.js';

function modelObject(model: ManagedModel) {
  return {
    id: model.id,
    object: 'model',
    created: Math.floor(model.entry.mtimeMs / 1000),
    owned_by: 'llm-node',
    ready: model.state === 'ready',
    state: model.state,
    capabilities: model.capabilities ?? [],
    context_length: model.loaded?.contextSize ?? null,
  };
}

export function registerModelsRoutes(app: FastifyInstance, services: NodeServices): void {
  app.get('/v1/models', async () => ({ object: 'list', data: services.models.all().map(modelObject) }));

  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    const id = request.params['*'];
    const model = services.models.get(id);
    if (!model) {
      throw new HttpError(404, `The model '${id}' does not exist on this node`, 'model_not_found', 'model');
    }
    return modelObject(model);
  });
}
