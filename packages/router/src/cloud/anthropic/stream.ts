/**
 * Anthropic stream events → OpenAI `chat.completion.chunk`s.
 *
 * - `message_start` opens the reply (role chunk) and carries the input token count;
 * - text blocks become `delta.content`; each `tool_use` block becomes one tool call whose
 *   OpenAI `index` counts tool blocks only (Anthropic's block index also counts text blocks),
 *   and its `input_json_delta`s become `function.arguments` fragments;
 * - `message_delta` carries `stop_reason` and the (cumulative) output token count;
 * - `message_stop` ends the reply with the finish chunk. A stream that ends before it was cut off.
 * Usage fields replace earlier values of the same field, never add to them.
 */

import type { SseEvent } from '../../transport/sse.js';
import { CloudError, isRecord, parseJson } from '../errors.js';
import type { ChatChunk, ChunkDelta, FinishReason, ResponseContext, Usage } from '../openai-shapes.js';
import type { StreamTranslator } from '../provider.js';
import { anthropicStreamError } from './errors.js';
import { anthropicFinishReason, anthropicUsage } from './response.js';

export class AnthropicStreamTranslator implements StreamTranslator {
  sawFirstToken = false;
  private id: string;
  private started = false;
  private finished = false;
  private finishReason: FinishReason = 'stop';
  private readonly usageFields: Record<string, unknown> = {};
  private readonly toolIndexByBlock = new Map<number, number>();

  constructor(private readonly context: ResponseContext) {
    this.id = `chatcmpl-anthropic-${context.created}`;
  }

  push(event: SseEvent): ChatChunk[] {
    const json = parseJson(event.data);
    if (event.event === 'error' || (isRecord(json) && json.type === 'error'))
      throw anthropicStreamError(json);
    if (!isRecord(json)) return [];
    const chunks: ChatChunk[] = [];
    switch (json.type) {
      case 'message_start': {
        const message = isRecord(json.message) ? json.message : {};
        if (typeof message.id === 'string') this.id = message.id;
        if (isRecord(message.usage)) this.mergeUsage(message.usage);
        this.open(chunks);
        break;
      }
      case 'content_block_start':
        this.open(chunks);
        this.blockStart(json, chunks);
        break;
      case 'content_block_delta':
        this.open(chunks);
        this.blockDelta(json, chunks);
        break;
      case 'message_delta':
        if (isRecord(json.delta) && json.delta.stop_reason)
          this.finishReason = anthropicFinishReason(json.delta.stop_reason);
        if (isRecord(json.usage)) this.mergeUsage(json.usage);
        break;
      case 'message_stop':
        this.open(chunks);
        this.finished = true;
        chunks.push(this.chunk({}, this.finishReason));
        break;
      // ping and content_block_stop carry nothing for the client.
    }
    return chunks;
  }

  end(): ChatChunk[] {
    if (!this.finished) {
      throw new CloudError(
        502,
        'anthropic: the stream ended before message_stop',
        'upstream_stream_incomplete',
      );
    }
    return [];
  }

  usage(): Usage | undefined {
    return Object.keys(this.usageFields).length > 0 ? anthropicUsage(this.usageFields) : undefined;
  }

  private mergeUsage(usage: Record<string, unknown>): void {
    for (const [field, value] of Object.entries(usage)) {
      if (typeof value === 'number') this.usageFields[field] = value;
    }
  }

  private open(chunks: ChatChunk[]): void {
    if (this.started) return;
    this.started = true;
    chunks.push(this.chunk({ role: 'assistant', content: '' }, null));
  }

  private blockStart(json: Record<string, unknown>, chunks: ChatChunk[]): void {
    const block = isRecord(json.content_block) ? json.content_block : {};
    if (block.type === 'tool_use' && typeof json.index === 'number') {
      const index = this.toolIndexByBlock.size;
      this.toolIndexByBlock.set(json.index, index);
      // Some servers send the whole input in the start block instead of deltas.
      const input =
        isRecord(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : '';
      const call = {
        index,
        id: String(block.id),
        type: 'function' as const,
        function: { name: String(block.name), arguments: input },
      };
      chunks.push(this.chunk({ tool_calls: [call] }, null, true));
    } else if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
      chunks.push(this.chunk({ content: block.text }, null, true));
    }
  }

  private blockDelta(json: Record<string, unknown>, chunks: ChatChunk[]): void {
    const delta = isRecord(json.delta) ? json.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') {
      chunks.push(this.chunk({ content: delta.text }, null, true));
    } else if (
      delta.type === 'input_json_delta' &&
      typeof delta.partial_json === 'string' &&
      delta.partial_json !== ''
    ) {
      const index = typeof json.index === 'number' ? this.toolIndexByBlock.get(json.index) : undefined;
      if (index === undefined) return;
      chunks.push(
        this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }, null, true),
      );
    }
    // thinking_delta, signature_delta and citations_delta have no OpenAI counterpart.
  }

  private chunk(delta: ChunkDelta, finishReason: FinishReason | null, isToken = false): ChatChunk {
    if (isToken) this.sawFirstToken = true;
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.context.created,
      model: this.context.publicModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }
}
