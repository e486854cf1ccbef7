/**
 * Legacy `/v1/completions` on providers that only have a chat API: the prompt is sent as one
 * user message and the answer is mapped back to `text_completion` (and its stream form), so
 * the client never sees the chat shape.
 */
import { unsupported } from './errors.js';
import type { ChatChunk, ChatCompletion, FinishReason, Usage } from './openai-shapes.js';

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { text: string; index: number; logprobs: null; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

/** Turns a completions body into the equivalent chat body; other fields carry over unchanged. */
export function completionToChatBody(body: Record<string, unknown>): Record<string, unknown> {
  const { prompt, echo, suffix, best_of, logprobs, ...rest } = body;
  if (echo === true) throw unsupported("'echo' is not available for this provider", 'echo');
  if (typeof suffix === 'string' && suffix !== '')
    throw unsupported("'suffix' is not available for this provider", 'suffix');
  if (typeof best_of === 'number' && best_of > 1)
    throw unsupported("'best_of' is not available for this provider", 'best_of');
  if (logprobs !== undefined && logprobs !== null)
    throw unsupported("'logprobs' is not available for this provider", 'logprobs');
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  else if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') text = prompt[0];
  else
    throw unsupported(
      "'prompt' must be one string for this provider (batched prompts are not supported)",
      'prompt',
    );
  return { ...rest, messages: [{ role: 'user', content: text }] };
}

/** A completion has no tool calls, so `tool_calls` cannot occur; anything else maps one to one. */
const completionFinish = (reason: FinishReason | null): FinishReason | null =>
  reason === 'tool_calls' ? 'stop' : reason;

const completionId = (chatId: string) => (chatId.startsWith('cmpl-') ? chatId : `cmpl-${chatId}`);

export function chatToTextCompletion(chat: ChatCompletion): TextCompletion {
  return {
    id: completionId(chat.id),
    object: 'text_completion',
    created: chat.created,
    model: chat.model,
    choices: chat.choices.map((choice) => ({
      text: choice.message.content ?? '',
      index: choice.index,
      logprobs: null,
      finish_reason: completionFinish(choice.finish_reason),
    })),
    ...(chat.usage ? { usage: chat.usage } : {}),
  };
}

/** `undefined` for chunks a completion stream has no use for (the role-only opening chunk). */
export function chatChunkToTextCompletion(chunk: ChatChunk): TextCompletion | undefined {
  const choices = chunk.choices
    .filter((choice) => (choice.delta.content ?? '') !== '' || choice.finish_reason !== null)
    .map((choice) => ({
      text: choice.delta.content ?? '',
      index: choice.index,
      logprobs: null,
      finish_reason: completionFinish(choice.finish_reason),
    }));
  if (choices.length === 0 && !chunk.usage) return undefined;
  return {
    id: completionId(chunk.id),
    object: 'text_completion',
    created: chunk.created,
    model: chunk.model,
    choices,
    ...(chunk.usage ? { usage: chunk.usage } : {}),
  };
}
