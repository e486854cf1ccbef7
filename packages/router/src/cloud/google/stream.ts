/**
 * Gemini `streamGenerateContent?alt=sse` events → OpenAI `chat.completion.chunk`s.
 *
 * Every event is a whole `GenerateContentResponse` holding the *new* parts of each candidate.
 * Gemini sends a function call whole, never in fragments, so each call becomes one tool-call
 * delta carrying id, name and the complete arguments. `usageMetadata` is cumulative: the last
 * one seen is the total, so it replaces, never adds. With `n > 1` each candidate index is its
 * own choice with its own tool-call numbering.
 */

import type { SseEvent } from '../../transport/sse.js';
import { CloudError, isRecord, parseJson } from '../errors.js';
import type { ChatChunk, ChunkDelta, FinishReason, ResponseContext, Usage } from '../openai-shapes.js';
import type { StreamTranslator } from '../provider.js';
import { googleStreamError } from './errors.js';
import {
  candidateParts,
  geminiFinishReason,
  geminiUsage,
  newCallId,
  textOfPart,
  toolCallFromPart,
} from './response.js';

interface ChoiceState {
  toolCalls: number;
  finished: boolean;
}

export class GeminiStreamTranslator implements StreamTranslator {
  sawFirstToken = false;
  private id: string;
  private lastUsage: Usage | undefined;
  private readonly choices = new Map<number, ChoiceState>();

  constructor(private readonly context: ResponseContext) {
    this.id = `chatcmpl-google-${newCallId().slice(5)}`;
  }

  push(event: SseEvent): ChatChunk[] {
    const json = parseJson(event.data);
    if (!isRecord(json)) return [];
    if (isRecord(json.error)) throw googleStreamError(json);
    if (typeof json.responseId === 'string' && this.choices.size === 0) this.id = json.responseId;
    if (isRecord(json.usageMetadata)) this.lastUsage = geminiUsage(json.usageMetadata);
    const chunks: ChatChunk[] = [];
    const candidates = Array.isArray(json.candidates) ? json.candidates.filter(isRecord) : [];
    candidates.forEach((candidate, position) => {
      const index = typeof candidate.index === 'number' ? candidate.index : position;
      this.translateCandidate(candidate, index, chunks);
    });
    const feedback = isRecord(json.promptFeedback) ? json.promptFeedback : {};
    if (candidates.length === 0 && typeof feedback.blockReason === 'string') {
      // The prompt was blocked: there will be no candidate.
      this.state(0, chunks).finished = true;
      chunks.push(this.chunk(0, {}, 'content_filter'));
    }
    return chunks;
  }

  end(): ChatChunk[] {
    const unfinished =
      this.choices.size === 0 || [...this.choices.values()].some((choice) => !choice.finished);
    if (unfinished)
      throw new CloudError(
        502,
        'google: the stream ended before a finishReason',
        'upstream_stream_incomplete',
      );
    return [];
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }

  private state(index: number, chunks: ChatChunk[]): ChoiceState {
    let state = this.choices.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      this.choices.set(index, state);
      chunks.push(this.chunk(index, { role: 'assistant', content: '' }, null));
    }
    return state;
  }

  private translateCandidate(candidate: Record<string, unknown>, index: number, chunks: ChatChunk[]): void {
    const state = this.state(index, chunks);
    for (const part of candidateParts(candidate)) {
      const text = textOfPart(part);
      if (text !== '') chunks.push(this.chunk(index, { content: text }, null, true));
      const call = toolCallFromPart(part);
      if (call) {
        const delta = { index: state.toolCalls++, ...call };
        chunks.push(this.chunk(index, { tool_calls: [delta] }, null, true));
      }
    }
    if (candidate.finishReason !== undefined && candidate.finishReason !== null && !state.finished) {
      state.finished = true;
      chunks.push(this.chunk(index, {}, geminiFinishReason(candidate.finishReason, state.toolCalls > 0)));
    }
  }

  private chunk(
    index: number,
    delta: ChunkDelta,
    finishReason: FinishReason | null,
    isToken = false,
  ): ChatChunk {
    if (isToken) this.sawFirstToken = true;
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.context.created,
      model: this.context.publicModel,
      choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    };
  }
}
