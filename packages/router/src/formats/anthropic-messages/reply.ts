/**
 * OpenAI chat output → Anthropic Messages output: a `chat.completion` becomes a `message`, and a
 * stream of `chat.completion.chunk`s becomes Anthropic's event sequence (`message_start`, `ping`,
 * `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`) /
 * `content_block_stop` per block, `message_delta` with the stop reason and usage, `message_stop`).
 * An error after the stream started becomes an `error` event, as Anthropic sends it.
 */
import { randomBytes } from 'node:crypto';
import { anthropicError } from '@llm-router/protocol';
import { namedSseFrame } from '../../transport/sse.js';
import type { BackendError, FormatTranslation } from '../channel.js';

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const messageId = () => `msg_${randomBytes(12).toString('hex')}`;

export function stopReason(finishReason: unknown): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

function parseArguments(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

const tokens = (value: unknown) => (typeof value === 'number' ? value : 0);

export function chatToMessage(completion: unknown, model: string): Json {
  const choice =
    isRecord(completion) && Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  const message = isRecord(choice) && isRecord(choice.message) ? choice.message : {};
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '') {
    content.push({ type: 'text', text: message.content });
  }
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(call) || !isRecord(call.function)) continue;
    content.push({
      type: 'tool_use',
      id: typeof call.id === 'string' ? call.id : `toolu_${randomBytes(8).toString('hex')}`,
      name: String(call.function.name),
      input: parseArguments(call.function.arguments),
    });
  }
  const usage = isRecord(completion) && isRecord(completion.usage) ? completion.usage : {};
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(isRecord(choice) ? choice.finish_reason : undefined),
    stop_sequence: null,
    usage: { input_tokens: tokens(usage.prompt_tokens), output_tokens: tokens(usage.completion_tokens) },
  };
}

interface OpenBlock {
  index: number;
  kind: 'text' | 'tool_use';
  /** OpenAI's tool call index, for tool blocks. */
  toolIndex?: number;
}

/** One Messages stream: feed OpenAI chunks in order, get Anthropic SSE frames out. */
export class MessagesStream implements FormatTranslation {
  private readonly id = messageId();
  private nextIndex = 0;
  private block: OpenBlock | null = null;
  private finishReason: unknown = null;
  private inputTokens = 0;
  private outputTokens = 0;
  /** The reassembled message (text and tool calls), for history and tests. */
  text = '';

  constructor(private readonly model: string) {}

  reply(completion: unknown): object {
    return chatToMessage(completion, this.model);
  }

  errorBody(error: BackendError): object {
    return anthropicError(error.status, error.message);
  }

  open(): string {
    const message = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return (
      namedSseFrame('message_start', { type: 'message_start', message }) +
      namedSseFrame('ping', { type: 'ping' })
    );
  }

  chunk(chunk: Json): string {
    let out = '';
    if (isRecord(chunk.usage)) {
      this.inputTokens = tokens(chunk.usage.prompt_tokens);
      this.outputTokens = tokens(chunk.usage.completion_tokens);
    }
    const choice = Array.isArray(chunk.choices)
      ? chunk.choices.find((c) => isRecord(c) && (c.index ?? 0) === 0)
      : undefined;
    if (!isRecord(choice)) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.block?.kind !== 'text') out += this.startBlock({ type: 'text', text: '' }, 'text');
      this.text += delta.content;
      out += this.blockDelta({ type: 'text_delta', text: delta.content });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : {};
      const toolIndex = typeof call.index === 'number' ? call.index : 0;
      if (this.block?.kind !== 'tool_use' || this.block.toolIndex !== toolIndex) {
        const id = typeof call.id === 'string' ? call.id : `toolu_${randomBytes(8).toString('hex')}`;
        out += this.startBlock(
          { type: 'tool_use', id, name: String(fn.name ?? ''), input: {} },
          'tool_use',
          toolIndex,
        );
      }
      if (typeof fn.arguments === 'string' && fn.arguments !== '') {
        out += this.blockDelta({ type: 'input_json_delta', partial_json: fn.arguments });
      }
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined)
      this.finishReason = choice.finish_reason;
    return out;
  }

  streamError(error: BackendError): string {
    return namedSseFrame('error', anthropicError(error.status, error.message));
  }

  close(): string {
    let out = this.stopBlock();
    out += namedSseFrame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason(this.finishReason), stop_sequence: null },
      usage: { input_tokens: this.inputTokens, output_tokens: this.outputTokens },
    });
    return out + namedSseFrame('message_stop', { type: 'message_stop' });
  }

  private startBlock(contentBlock: Json, kind: OpenBlock['kind'], toolIndex?: number): string {
    const out = this.stopBlock();
    this.block = { index: this.nextIndex++, kind, toolIndex };
    return (
      out +
      namedSseFrame('content_block_start', {
        type: 'content_block_start',
        index: this.block.index,
        content_block: contentBlock,
      })
    );
  }

  private blockDelta(delta: Json): string {
    return namedSseFrame('content_block_delta', {
      type: 'content_block_delta',
      index: this.block!.index,
      delta,
    });
  }

  private stopBlock(): string {
    if (!this.block) return '';
    const index = this.block.index;
    this.block = null;
    return namedSseFrame('content_block_stop', { type: 'content_block_stop', index });
  }
}
