/**
 * Runs chat and text completions: takes a sequence (or waits in the queue), generates one
 * choice per prompt, and answers either as one JSON body or as a token-by-token SSE stream.
 * The two endpoints differ only in the shape of their objects (`ResponseShape`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { generate, type SamplingOptions } from '../../inference/generate.js';
import { sequenceInput, sequenceRank } from '../../inference/prefix-cache.js';
import type { RenderedPrompt } from '../../inference/prompt.js';
import { QueueFullError } from '../../inference/sequence-pool.js';
import type { LoadedModel } from '../../models/loaded-model.js';
import type { NodeServices } from '../../services.js';
import { HttpError, toHttpError } from '../errors.js';
import { SseWriter } from '../sse.js';
import { beginInference } from './inference-scope.js';
import { beginInferenceSpan } from './inference-span.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** OpenAI's field: prompt tokens served from the KV cache instead of being evaluated. */
  prompt_tokens_details: { cached_tokens: number };
}

export interface ChoiceResult {
  text: string;
  finishReason: 'stop' | 'length';
}

/** How one endpoint spells its responses and stream chunks. */
export interface ResponseShape {
  /** The chunk that opens a choice (chat announces the role), if any. */
  open(index: number): unknown | null;
  delta(index: number, text: string): unknown;
  finish(index: number, reason: 'stop' | 'length'): unknown;
  usageChunk(usage: Usage): unknown;
  body(choices: ChoiceResult[], usage: Usage): unknown;
}

export interface GenerationJob {
  endpoint: 'chat' | 'completions';
  loaded: LoadedModel;
  prompts: { prompt: RenderedPrompt; promptTokens: number }[];
  sampling: SamplingOptions;
  stream: boolean;
  includeUsage: boolean;
  shape: ResponseShape;
}

/**
 * The answer for a request cut short: if the client left, nobody reads it; if it is still
 * there, the node is shutting down.
 */
const stoppedEarly = () => new HttpError(503, 'The node is shutting down', 'node_shutting_down');

/** Drops the whitespace a template leaves before the reply, even across several chunks. */
function leadingWhitespaceTrimmer(enabled: boolean) {
  let started = !enabled;
  return (text: string) => {
    if (started) return text;
    const trimmed = text.trimStart();
    if (trimmed !== '') started = true;
    return trimmed;
  };
}

export async function runGeneration(
  services: NodeServices,
  request: FastifyRequest,
  reply: FastifyReply,
  job: GenerationJob,
): Promise<unknown> {
  const scope = beginInference(services, request, reply, job.endpoint);
  // A child of the router's attempt span: the prompt, cached and generated tokens, and the time
  // to the first generated token.
  const span = beginInferenceSpan(services, request, 'generation', {
    'gen_ai.request.model': job.loaded.id,
    'llm_node.endpoint': job.endpoint,
    'llm_node.stream': job.stream,
  });
  const pool = job.loaded.pool!;
  let lease: Awaited<ReturnType<typeof pool.acquire>>;
  try {
    // The free sequence already holding the longest prefix of the (first) prompt serves it.
    const first = sequenceInput(job.loaded.model, job.prompts[0]?.prompt.tokens ?? []);
    lease = await pool.acquire(scope.signal, (sequence) => sequenceRank(sequence, first));
  } catch (error) {
    const outcome = error instanceof QueueFullError ? 'rejected' : scope.aborted ? 'aborted' : 'error';
    scope.end(outcome);
    span?.end(outcome, {}, error);
    throw scope.aborted ? stoppedEarly() : error;
  }
  const usage: Usage = {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    prompt_tokens_details: { cached_tokens: 0 },
  };
  const choices: ChoiceResult[] = [];
  const sse = job.stream ? new SseWriter(reply, request.url) : null;
  try {
    for (const [index, { prompt, promptTokens }] of job.prompts.entries()) {
      const trim = leadingWhitespaceTrimmer(prompt.trimLeadingWhitespace);
      scope.tracker.addTokens(promptTokens, 0);
      const opening = sse && job.shape.open(index);
      if (opening) sse.send(opening);
      const result = await generate(lease.item, {
        tokens: prompt.tokens,
        stopTriggers: prompt.stopTriggers,
        sampling: job.sampling,
        signal: scope.signal,
        onText: sse
          ? (text) => {
              const visible = trim(text);
              if (visible !== '') sse.send(job.shape.delta(index, visible));
            }
          : undefined,
        onTokens: (count) => {
          if (span && count > 0) span.markFirstToken();
          scope.tracker.addTokens(0, count);
        },
      });
      usage.prompt_tokens += promptTokens;
      usage.completion_tokens += result.completionTokens;
      usage.prompt_tokens_details.cached_tokens += result.cachedTokens;
      services.metrics.recordPromptCache(promptTokens - result.cachedTokens, result.cachedTokens);
      services.metrics.recordGenerationTime(result.seconds);
      choices.push({ text: sse ? '' : trim(result.text), finishReason: result.finishReason });
      sse?.send(job.shape.finish(index, result.finishReason));
    }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    request.log.info(
      {
        model: job.loaded.id,
        endpoint: job.endpoint,
        stream: job.stream,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cached_tokens: usage.prompt_tokens_details.cached_tokens,
        finish: choices.map((c) => c.finishReason),
      },
      'generation finished',
    );
    scope.end('success');
    span?.end('success', spanUsage(usage));
    if (sse) {
      if (job.includeUsage) sse.send(job.shape.usageChunk(usage));
      sse.done(usage);
      return reply;
    }
    return job.shape.body(choices, usage);
  } catch (error) {
    if (scope.aborted) {
      request.log.info({ model: job.loaded.id, endpoint: job.endpoint }, 'generation stopped before the end');
      scope.end('aborted');
      span?.end('aborted', spanUsage(usage));
      // A client still connected means the node is shutting down: say so.
      if (!sse) throw stoppedEarly();
      sse.fail(stoppedEarly());
      return reply;
    }
    scope.end('error');
    span?.end('error', spanUsage(usage), error);
    if (!sse) throw error;
    const httpError = toHttpError(error);
    request.log.error({ err: error }, 'generation failed mid-stream');
    sse.fail(httpError);
    return reply;
  } finally {
    lease.release();
  }
}

const spanUsage = (usage: Usage) => ({
  'gen_ai.usage.input_tokens': usage.prompt_tokens,
  'llm_node.cached_tokens': usage.prompt_tokens_details.cached_tokens,
  'gen_ai.usage.output_tokens': usage.completion_tokens,
});
