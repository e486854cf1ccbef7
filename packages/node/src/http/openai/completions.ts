/** `POST /v1/completions`: `text_completion` objects and their SSE chunks; one choice per prompt. */
import { CompletionRequestSchema, INFERENCE_PATHS } from '@llm-router/protocol';
import type { FastifyInstance } from 'fastify';
import { assertPromptFits, promptTokenCount, renderCompletionPrompt } from '../../inference/prompt.js';
import type { NodeServices } from '../../services.js';
import { type ResponseShape, runGeneration } from './generation.js';
import { responseId, unixSeconds } from './ids.js';
import {
  parseBody,
  rejectUnsupportedCompletionParameters,
  resolveModel,
  stopList,
} from './request-checks.js';

function completionShape(model: string, includeUsage: boolean): ResponseShape {
  const id = responseId('cmpl');
  const created = unixSeconds();
  const chunk = (choices: unknown[]) => ({
    id,
    object: 'text_completion',
    created,
    model,
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  const choice = (index: number, text: string, finish: string | null) => ({
    text,
    index,
    logprobs: null,
    finish_reason: finish,
  });
  return {
    open: () => null,
    delta: (index, text) => chunk([choice(index, text, null)]),
    finish: (index, reason) => chunk([choice(index, '', reason)]),
    usageChunk: (usage) => ({ ...chunk([]), usage }),
    body: (choices, usage) => ({
      ...chunk(choices.map((c, index) => choice(index, c.text, c.finishReason))),
      usage,
    }),
  };
}

export function registerCompletionsRoute(app: FastifyInstance, services: NodeServices): void {
  app.post(INFERENCE_PATHS.completions, async (request, reply) => {
    const body = parseBody(CompletionRequestSchema, request.body);
    rejectUnsupportedCompletionParameters(body);
    const loaded = resolveModel(services, body.model, 'completion').loaded!;
    const texts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
    const prompts = texts.map((text, index) => {
      const prompt = renderCompletionPrompt(loaded, text);
      const promptTokens = promptTokenCount(loaded.model, prompt.tokens);
      assertPromptFits(promptTokens, loaded.contextSize, texts.length > 1 ? `prompt.${index}` : 'prompt');
      return { prompt, promptTokens };
    });
    const includeUsage = body.stream === true && body.stream_options?.include_usage === true;
    return runGeneration(services, request, reply, {
      endpoint: 'completions',
      loaded,
      prompts,
      sampling: {
        maxTokens: body.max_tokens ?? 16,
        temperature: body.temperature,
        topP: body.top_p,
        seed: body.seed,
        stop: stopList(body.stop),
        presencePenalty: body.presence_penalty,
        frequencyPenalty: body.frequency_penalty,
      },
      stream: body.stream === true,
      includeUsage,
      shape: completionShape(body.model, includeUsage),
    });
  });
}
