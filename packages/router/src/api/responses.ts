/**
 * OpenAI Responses: `POST /v1/responses`, `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`
 * on every model. `openai:` models get the request as sent (native passthrough to OpenAI's
 * Responses API); local and other cloud models get it as a chat request through the Responses
 * adapter. Stored responses (`store`, default true) are scoped to the key or user that made them;
 * `previous_response_id` continues a stored conversation, and anyone else's id is a 404.
 */
import {
  describeValidationError,
  INFERENCE_ENDPOINTS,
  openAIError,
  type ResponsesRequest,
  ResponsesRequestSchema,
} from '@llm-router/protocol';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { TranslatingChannel } from '../formats/channel.js';
import { chatToItems } from '../formats/openai-responses/items.js';
import { ResponsesTranslation, responseId } from '../formats/openai-responses/reply.js';
import { itemsToChat, responsesToChat } from '../formats/openai-responses/request.js';
import type { InferenceResult } from '../history/types.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { ResponseStore, StoredResponse } from '../responses/store.js';
import type { InferenceRouting } from './inference-routing.js';

const ENDPOINT = INFERENCE_ENDPOINTS.find((endpoint) => endpoint.format === 'openai-responses')!;
type Json = Record<string, unknown>;

/** Whose responses these are: the API key, or the signed-in user. */
function ownerOf(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal?.kind === 'api_key') return `key:${principal.apiKeyId}`;
  if (principal?.kind === 'user') return `user:${principal.userId}`;
  return 'anonymous';
}

const responseNotFound = (id: string, param: string | null = null) =>
  new HttpError(404, `No response found with id '${id}'`, 'response_not_found', param);

function parseBody(body: unknown): ResponsesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_request');
  }
  const parsed = ResponsesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeValidationError(parsed.error);
    throw badRequest(message, param, 'invalid_request');
  }
  return parsed.data;
}

/** The chat messages a stored response adds to its conversation (its output). */
function outputMessages(stored: StoredResponse): Json[] {
  const output = Array.isArray(stored.response.output) ? stored.response.output : [];
  return itemsToChat(output as unknown[], 'previous_response.output');
}

export function registerResponsesRoutes(
  app: FastifyInstance,
  routing: InferenceRouting,
  requireInference: onRequestHookHandler,
  store: ResponseStore,
): void {
  const { cloud } = routing;

  async function save(request: FastifyRequest, entry: StoredResponse): Promise<void> {
    try {
      await store.save(entry);
    } catch (error) {
      request.log.error({ err: error, id: entry.id }, 'storing a response failed');
    }
  }

  app.post(ENDPOINT.path, { onRequest: requireInference }, (request, reply) =>
    routing.handle(ENDPOINT, request, reply, async (): Promise<InferenceResult> => {
      const body = parseBody(request.body);
      const owner = ownerOf(request);
      const keep = body.store !== false;
      let previous: StoredResponse | undefined;
      if (body.previous_response_id) {
        previous = await store.get(body.previous_response_id, owner);
        if (!previous) throw responseNotFound(body.previous_response_id, 'previous_response_id');
      }
      const history = previous ? ([...previous.conversation, ...outputMessages(previous)] as Json[]) : [];
      const input = itemsToChat(body.input);
      const conversation = [...history, ...input];

      const ref = cloud?.parseModel(body.model);
      if (cloud && ref?.provider === 'openai') {
        // OpenAI continues its own stored responses; a conversation held here is sent as items.
        const native = !previous || previous.provider === 'openai';
        const sent: Json = native
          ? (body as Json)
          : { ...body, previous_response_id: undefined, input: chatToItems(conversation) };
        const result = await cloud.forwardNative({
          ref,
          path: '/responses',
          body: sent,
          rawBody: native ? request.rawBody : undefined,
          reply,
          errorBody: (status, message) => openAIError(status, message, 'upstream_error'),
        });
        const final = result.final as Json | undefined;
        if (keep && result.success && final && typeof final.id === 'string') {
          await save(request, {
            id: final.id,
            owner,
            model: body.model,
            provider: 'openai',
            createdAt: Date.now(),
            conversation,
            response: final,
          });
        }
        return result;
      }

      const backend = routing.backendFor(body.model);
      const translation = new ResponsesTranslation({
        id: responseId(),
        model: body.model,
        createdAt: Math.floor(Date.now() / 1000),
        request: body as Json,
        previousResponseId: body.previous_response_id ?? null,
        store: keep,
      });
      const chat = responsesToChat(body as Json, history, input);
      const channel = new TranslatingChannel(reply, translation);
      const result = await backend.forward({
        kind: 'chat',
        model: body.model,
        body: chat,
        rawBody: undefined,
        request,
        reply,
        channel,
      });
      const final = translation.final;
      if (keep && result.success && final) {
        await save(request, {
          id: final.id as string,
          owner,
          model: body.model,
          provider: null,
          createdAt: Date.now(),
          conversation,
          response: final,
        });
      }
      return result;
    }),
  );

  app.get(`${ENDPOINT.path}/:id`, { onRequest: requireInference }, async (request) => {
    const { id } = request.params as { id: string };
    const stored = await store.get(id, ownerOf(request));
    if (!stored) throw responseNotFound(id);
    return stored.response;
  });

  app.delete(`${ENDPOINT.path}/:id`, { onRequest: requireInference }, async (request) => {
    const { id } = request.params as { id: string };
    if (!(await store.delete(id, ownerOf(request)))) throw responseNotFound(id);
    return { id, object: 'response.deleted', deleted: true };
  });
}
