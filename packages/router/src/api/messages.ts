/**
 * Anthropic Messages: `POST /v1/messages` and `POST /v1/messages/count_tokens` on every model.
 * `anthropic:` models get the request as sent (native passthrough); local and `openai:`/`google:`
 * models get it as an OpenAI chat request and their reply goes back through the Messages adapter.
 * Errors are Anthropic-shaped (the server renders every `/v1/messages` error that way).
 */
import {
  anthropicError,
  CountTokensRequestSchema,
  describeValidationError,
  INFERENCE_ENDPOINTS,
  type MessagesRequest,
  MessagesRequestSchema,
} from '@llm-router/protocol';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { z } from 'zod';
import { MessagesStream } from '../formats/anthropic-messages/reply.js';
import { messagesToChat } from '../formats/anthropic-messages/request.js';
import { TranslatingChannel } from '../formats/channel.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { InferenceRouting } from './inference-routing.js';
import { countTokensOnNode } from './node-tokens.js';

const ENDPOINT = INFERENCE_ENDPOINTS.find((endpoint) => endpoint.format === 'anthropic-messages')!;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_request');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeValidationError(parsed.error);
    throw badRequest(message, param, 'invalid_request');
  }
  return parsed.data;
}

/** Anthropic headers worth passing on to Anthropic itself. */
function anthropicHeaders(request: FastifyRequest): Record<string, string> {
  const beta = request.headers['anthropic-beta'];
  return typeof beta === 'string' && beta !== '' ? { 'anthropic-beta': beta } : {};
}

export function registerMessagesRoutes(
  app: FastifyInstance,
  routing: InferenceRouting,
  requireInference: onRequestHookHandler,
): void {
  const { cloud } = routing;

  app.post(ENDPOINT.path, { onRequest: requireInference }, (request, reply) =>
    routing.handle(ENDPOINT, request, reply, async () => {
      const body: MessagesRequest = parse(MessagesRequestSchema, request.body);
      const ref = cloud?.parseModel(body.model);
      if (cloud && ref?.provider === 'anthropic') {
        return cloud.forwardNative({
          ref,
          path: '/messages',
          body: body as Record<string, unknown>,
          rawBody: request.rawBody,
          reply,
          errorBody: anthropicError,
          headers: anthropicHeaders(request),
        });
      }
      const backend = routing.backendFor(body.model);
      const chat = messagesToChat(body);
      const channel = new TranslatingChannel(reply, new MessagesStream(body.model));
      return backend.forward({
        kind: 'chat',
        model: body.model,
        body: chat,
        rawBody: undefined,
        request,
        reply,
        channel,
      });
    }),
  );

  app.post(`${ENDPOINT.path}/count_tokens`, { onRequest: requireInference }, async (request, reply) => {
    const body = parse(CountTokensRequestSchema, request.body);
    const ref = cloud?.parseModel(body.model);
    if (cloud && ref?.provider === 'anthropic') {
      await cloud.forwardNative({
        ref,
        path: '/messages/count_tokens',
        body: body as Record<string, unknown>,
        rawBody: request.rawBody,
        reply,
        errorBody: anthropicError,
        headers: anthropicHeaders(request),
      });
      return reply;
    }
    if (ref) {
      throw new HttpError(
        400,
        `count_tokens is available for local and anthropic: models; ${ref.provider}: has no tokenizer the router can use`,
        'unsupported_endpoint',
        'model',
      );
    }
    routing.backendFor(body.model);
    const chat = messagesToChat({ ...body, max_tokens: 1 });
    const count = await countTokensOnNode(routing.fleet, body.model, chat);
    return { input_tokens: count };
  });
}
