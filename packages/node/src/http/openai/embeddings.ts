/**
 * `POST /v1/embeddings`. `encoding_format: "base64"` (what the openai SDK asks for by default)
 * returns little-endian float32 bytes; `float` returns plain numbers.
 */
import { EmbeddingRequestSchema, INFERENCE_PATHS } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import { encodeEmbeddingBase64 } from '../../inference/embeddings.js';
import type { NodeServices } from '../../services.js';
import { HttpError } from '../errors.js';
import { beginInference } from './inference-scope.js';
import { beginInferenceSpan } from './inference-span.js';
import { parseBody, resolveModel } from './request-checks.js';

export function registerEmbeddingsRoute(app: FastifyInstance, services: NodeServices): void {
  app.post(INFERENCE_PATHS.embeddings, async (request, reply) => {
    const body = parseBody(EmbeddingRequestSchema, request.body);
    const loaded = (await resolveModel(services, body.model, 'embeddings')).loaded!;
    const size = loaded.model.embeddingVectorSize;
    if (body.dimensions !== undefined && body.dimensions !== size) {
      throw new HttpError(
        400,
        `'dimensions' must be ${size} for this model (it cannot shorten its embeddings)`,
        'unsupported_parameter',
        'dimensions',
      );
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const scope = beginInference(services, request, reply, 'embeddings');
    const span = beginInferenceSpan(services, request, 'embedding', {
      'gen_ai.request.model': loaded.id,
      'llm_node.endpoint': 'embeddings',
      'llm_node.input_count': inputs.length,
    });
    try {
      const { vectors, promptTokens } = await loaded.embeddings.embed(inputs, scope.signal);
      scope.tracker.addTokens(promptTokens, 0);
      scope.end('success');
      span?.end('success', { 'gen_ai.usage.input_tokens': promptTokens });
      const base64 = body.encoding_format === 'base64';
      return {
        object: 'list',
        data: vectors.map((vector, index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? encodeEmbeddingBase64(vector) : vector,
        })),
        model: body.model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
    } catch (error) {
      const outcome = scope.aborted ? 'aborted' : 'error';
      scope.end(outcome);
      span?.end(outcome, {}, error);
      // Aborted: the client left (nobody reads this) or the node is shutting down.
      throw scope.aborted ? new HttpError(503, 'The node is shutting down', 'node_shutting_down') : error;
    }
  });
}
