/**
 * OpenAI chat request → Anthropic Messages request.
 *
 * Anthropic differs in ways that matter: system text is a top-level field, tool results are
 * `tool_result` blocks inside a user message (all results of one parallel call in the same
 * message, ahead of any text), roles must alternate, and `max_tokens` is mandatory.
 */
import type { ChatRequest, ChatTurn, ContentPart, ToolChoice } from '../chat-request.js';
import { unsupported } from '../errors.js';

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

export interface AnthropicRequestOptions {
  model: string;
  defaultMaxTokens: number;
}

/** Best effort for `json_object`, which Anthropic has no switch for (documented in docs/cloud.md). */
export const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object and nothing else.';

function partBlock(part: ContentPart, param: string): Block {
  switch (part.kind) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return part.source.type === 'base64'
        ? {
            type: 'image',
            source: { type: 'base64', media_type: part.source.mediaType, data: part.source.data },
          }
        : { type: 'image', source: { type: 'url', url: part.source.url } };
    case 'file':
      if (part.source.mediaType === 'application/pdf') {
        return {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: part.source.data },
        };
      }
      if (part.source.mediaType === 'text/plain') {
        const text = Buffer.from(part.source.data, 'base64').toString('utf8');
        return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: text } };
      }
      throw unsupported(`Anthropic accepts PDF and plain-text files, not '${part.source.mediaType}'`, param);
  }
}

function turnMessage(turn: Exclude<ChatTurn, { role: 'system' }>, index: number): AnthropicMessage {
  const param = `messages[${index}].content`;
  switch (turn.role) {
    case 'user':
      return { role: 'user', content: turn.parts.map((part) => partBlock(part, param)) };
    case 'tool':
      return {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: turn.toolCallId, content: turn.content }],
      };
    case 'assistant':
      return {
        role: 'assistant',
        content: [
          ...turn.parts.map((part) => partBlock(part, param)),
          ...turn.toolCalls.map((call) => ({
            type: 'tool_use',
            id: call.id,
            name: call.name,
            input: call.arguments,
          })),
        ],
      };
  }
}

/** Consecutive same-role messages become one, with tool results first as Anthropic requires. */
function mergeConsecutive(messages: AnthropicMessage[]): AnthropicMessage[] {
  const merged: AnthropicMessage[] = [];
  for (const message of messages) {
    const previous = merged[merged.length - 1];
    if (previous && previous.role === message.role) previous.content.push(...message.content);
    else merged.push({ role: message.role, content: [...message.content] });
  }
  for (const message of merged) {
    if (message.role !== 'user') continue;
    const results = message.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0)
      message.content = [...results, ...message.content.filter((b) => b.type !== 'tool_result')];
  }
  return merged;
}

function toolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): Block | undefined {
  let mapped: Block | undefined;
  if (choice?.type === 'auto') mapped = { type: 'auto' };
  else if (choice?.type === 'none') mapped = { type: 'none' };
  else if (choice?.type === 'required') mapped = { type: 'any' };
  else if (choice?.type === 'function') mapped = { type: 'tool', name: choice.name };
  if (parallel === false && mapped?.type !== 'none')
    mapped = { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return mapped;
}

export function toAnthropicRequest(
  chat: ChatRequest,
  options: AnthropicRequestOptions,
): Record<string, unknown> {
  if (chat.n > 1) throw unsupported("Anthropic returns one choice per request; 'n' must be 1", 'n');
  const system = chat.turns.flatMap((turn) =>
    turn.role === 'system' && turn.text !== '' ? [turn.text] : [],
  );
  if (chat.responseFormat?.type === 'json_object') system.push(JSON_OBJECT_INSTRUCTION);
  const messages = mergeConsecutive(
    chat.turns.flatMap((turn, index) => {
      if (turn.role === 'system') return [];
      const message = turnMessage(turn, index);
      // Anthropic rejects empty content; an empty assistant turn carries nothing anyway.
      return message.content.length === 0 ? [] : [message];
    }),
  );
  const request: Record<string, unknown> = {
    model: options.model,
    max_tokens: chat.maxTokens ?? options.defaultMaxTokens,
    messages,
  };
  if (system.length > 0) request.system = system.join('\n\n');
  if (chat.temperature !== undefined) request.temperature = chat.temperature;
  if (chat.topP !== undefined) request.top_p = chat.topP;
  if (chat.stop.length > 0) request.stop_sequences = chat.stop;
  if (chat.tools.length > 0) {
    request.tools = chat.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      input_schema: tool.parameters ?? { type: 'object', properties: {} },
    }));
  }
  const choice = toolChoice(chat.toolChoice, chat.parallelToolCalls);
  if (choice && chat.tools.length > 0) request.tool_choice = choice;
  if (chat.responseFormat?.type === 'json_schema') {
    request.output_config = { format: { type: 'json_schema', schema: chat.responseFormat.schema } };
  }
  if (chat.user !== undefined) request.metadata = { user_id: chat.user };
  if (chat.stream) request.stream = true;
  return request;
}
