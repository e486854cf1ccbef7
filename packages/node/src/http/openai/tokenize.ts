/**
 * `POST /tokenize` (llama.cpp server style): counts tokens with the model's own tokenizer, so the
 * router can answer Anthropic's `count_tokens` for local models. `content` is tokenized as plain
 * text (`{tokens, count}`); `messages` are rendered with the model's chat template first, exactly
 * as a chat completion would see them (`{count}`).
 */
import { ChatCompletionRequestSchema } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { promptTokenCount, renderChatPrompt } from '../../inference/prompt.js';
import type { NodeServices } from '../../services.js';
import { badRequest } from '../errors.js';
import { parseBody, resolveModel } from './request-checks.js';

const TokenizeRequestSchema = z.object({
  model: z.string().min(1).max(256),
  content: z.string().optional(),
  messages: ChatCompletionRequestSchema.shape.messages.optional(),
});

export function registerTokenizeRoute(app: FastifyInstance, services: NodeServices): void {
  app.post('/tokenize', async (request) => {
    const body = parseBody(TokenizeRequestSchema, request.body);
    const loaded = resolveModel(services, body.model, 'chat').loaded!;
    if (body.messages !== undefined) {
      const prompt = renderChatPrompt(loaded, body.messages);
      return { count: promptTokenCount(loaded.model, prompt.tokens) };
    }
    if (body.content === undefined)
      throw badRequest("Send 'content' or 'messages'", 'content', 'invalid_value');
    const tokens = loaded.model.tokenize(body.content, false);
    return { tokens: [...tokens], count: tokens.length };
  });
}
