/** `POST /v1/chat/completions`: `chat.completion` objects and `chat.completion.chunk` streams. */
import { ChatCompletionRequestSchema, INFERENCE_PATHS } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import { assertPromptFits, promptTokenCount, renderChatPrompt } from '../../inference/prompt.js';
import type { NodeServices } from '../../services.js';
import { type ResponseShape, runGeneration } from './generation.js';
import { responseId, unixSeconds } from './ids.js';
import { parseBody, rejectUnsupportedChatParameters, resolveModel, stopList } from './request-checks.js';

function chatShape(model: string, includeUsage: boolean): ResponseShape {
  const id = responseId('chatcmpl');
  const created = unixSeconds();
  // With include_usage every chunk carries `usage: null` except the final usage chunk (OpenAI).
  const chunk = (choices: unknown[]) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  return {
    open: (index) =>
      chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
    delta: (index, text) => chunk([{ index, delta: { content: text }, logprobs: null, finish_reason: null }]),
    finish: (index, reason) => chunk([{ index, delta: {}, logprobs: null, finish_reason: reason }]),
    usageChunk: (usage) => ({ ...chunk([]), usage }),
    body: (choices, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: choices.map((choice, index) => ({
        index,
        message: { role: 'assistant', content: choice.text, refusal: null },
        logprobs: null,
        finish_reason: choice.finishReason,
      })),
      usage,
    }),
  };
}

export function registerChatRoute(app: FastifyInstance, services: NodeServices): void {
  app.post(INFERENCE_PATHS.chat, async (request, reply) => {
    const body = parseBody(ChatCompletionRequestSchema, request.body);
    rejectUnsupportedChatParameters(body);
    const loaded = resolveModel(services, body.model, 'chat').loaded!;
    const prompt = renderChatPrompt(loaded, body.messages);
    const promptTokens = promptTokenCount(loaded.model, prompt.tokens);
    assertPromptFits(promptTokens, loaded.contextSize, 'messages');
    const includeUsage = body.stream === true && body.stream_options?.include_usage === true;
    return runGeneration(services, request, reply, {
      endpoint: 'chat',
      loaded,
      prompts: [{ prompt, promptTokens }],
      sampling: {
        maxTokens: body.max_completion_tokens ?? body.max_tokens,
        temperature: body.temperature,
        topP: body.top_p,
        seed: body.seed,
        stop: stopList(body.stop),
        presencePenalty: body.presence_penalty,
        frequencyPenalty: body.frequency_penalty,
      },
      stream: body.stream === true,
      includeUsage,
      shape: chatShape(body.model, includeUsage),
    });
  });
}
