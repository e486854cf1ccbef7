/**
 * Anthropic Message → OpenAI chat completion, plus the two mappings the stream shares:
 * `stop_reason` → `finish_reason`, and usage. Anthropic's `input_tokens` excludes prompt-cache
 * reads and writes while OpenAI's `prompt_tokens` includes cached tokens, so they are added.
 */
import { CloudError, isRecord } from '../errors.js';
import {
  buildUsage,
  type ChatCompletion,
  type FinishReason,
  type ResponseContext,
  type ToolCall,
  type Usage,
} from '../openai-shapes.js';

export function anthropicFinishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Anthropic usage fields (any subset, as `message_delta` may carry) → OpenAI usage. */
export function anthropicUsage(usage: Record<string, unknown>): Usage {
  const cacheRead = count(usage.cache_read_input_tokens);
  const prompt = count(usage.input_tokens) + count(usage.cache_creation_input_tokens) + cacheRead;
  return buildUsage(prompt, count(usage.output_tokens), { cached: cacheRead });
}

export function fromAnthropicMessage(json: unknown, context: ResponseContext): ChatCompletion {
  if (!isRecord(json) || !Array.isArray(json.content)) {
    throw new CloudError(502, 'anthropic: the reply is not a Message', 'upstream_invalid_response');
  }
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of json.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking / redacted_thinking blocks have no place in an OpenAI message.
  }
  const completion: ChatCompletion = {
    id: typeof json.id === 'string' ? json.id : `chatcmpl-anthropic-${context.created}`,
    object: 'chat.completion',
    created: context.created,
    model: context.publicModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: anthropicFinishReason(json.stop_reason),
      },
    ],
  };
  if (isRecord(json.usage)) completion.usage = anthropicUsage(json.usage);
  return completion;
}
