/**
 * Anthropic Messages request → OpenAI chat request, the body every non-Anthropic backend takes
 * (a node's chat completions, or the cloud gateway's OpenAI-shaped input). System text becomes a
 * system message, `tool_result` blocks become `tool` messages (ahead of the user's text, as
 * Anthropic orders them), `tool_use` blocks become assistant `tool_calls`, images become
 * `image_url` parts. Anything with no chat equivalent is refused with a 400 naming the field.
 */
import type { MessagesRequest } from '@llm-router/protocol';
import { badRequest } from '../../http/errors.js';

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw badRequest(`'${param}' must be a string or an array of text blocks`, param);
  return content
    .map((block, index) => {
      if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') {
        throw badRequest(`'${param}[${index}]' must be a text block`, `${param}[${index}]`);
      }
      return block.text;
    })
    .join('\n');
}

function imagePart(block: Json, param: string): Json {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source.type === 'url' && typeof source.url === 'string') {
    return { type: 'image_url', image_url: { url: source.url } };
  }
  throw badRequest(`'${param}.source' must be a base64 or url image source`, `${param}.source`);
}

function toolResultText(block: Json, param: string): string {
  const content = block.content;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw badRequest(`'${param}.content' must be a string or blocks`, param);
  return content
    .map((part, index) => {
      if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
      throw badRequest(
        `'${param}.content[${index}]': only text tool results can be sent to this model`,
        `${param}.content[${index}]`,
      );
    })
    .join('\n');
}

function userMessages(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const blocks = content as unknown[];
  const tools: Json[] = [];
  const parts: Json[] = [];
  blocks.forEach((block, index) => {
    const at = `${param}[${index}]`;
    if (!isRecord(block)) throw badRequest(`'${at}' must be a content block`, at);
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') throw badRequest(`'${at}.text' must be a string`, at);
        parts.push({ type: 'text', text: block.text });
        break;
      case 'image':
        parts.push(imagePart(block, at));
        break;
      case 'tool_result': {
        if (typeof block.tool_use_id !== 'string') throw badRequest(`'${at}.tool_use_id' is required`, at);
        const text = toolResultText(block, at);
        tools.push({
          role: 'tool',
          tool_call_id: block.tool_use_id,
          content: block.is_error === true ? `Error: ${text}` : text,
        });
        break;
      }
      default:
        throw badRequest(`Content block type '${String(block.type)}' is not supported for this model`, at);
    }
  });
  const messages = [...tools];
  if (parts.length > 0) {
    const textOnly = parts.every((part) => part.type === 'text');
    messages.push({
      role: 'user',
      content: textOnly ? parts.map((part) => part.text as string).join('\n') : parts,
    });
  }
  return messages;
}

function assistantMessage(content: unknown, param: string): Json {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const toolCalls: Json[] = [];
  (content as unknown[]).forEach((block, index) => {
    const at = `${param}[${index}]`;
    if (!isRecord(block)) throw badRequest(`'${at}' must be a content block`, at);
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw badRequest(`'${at}' needs an id and a name`, at);
      }
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      // Earlier reasoning has no place in a chat transcript; the model does not need it back.
    } else {
      throw badRequest(`Content block type '${String(block.type)}' is not supported for this model`, at);
    }
  });
  return {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
  };
}

function toolChoice(choice: MessagesRequest['tool_choice']): Json | string | undefined {
  if (!choice) return undefined;
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'none':
      return 'none';
    case 'any':
      return 'required';
    case 'tool':
      if (!choice.name)
        throw badRequest("'tool_choice.name' is required for type 'tool'", 'tool_choice.name');
      return { type: 'function', function: { name: choice.name } };
  }
}

/**
 * The chat body for `request` (whose `model` is kept as the client sent it). `top_k` has no
 * chat equivalent and is dropped (docs/anthropic-messages.md).
 */
export function messagesToChat(request: MessagesRequest): Json {
  const messages: Json[] = [];
  if (request.system !== undefined) {
    const system = textOf(request.system, 'system');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  request.messages.forEach((message, index) => {
    const param = `messages[${index}].content`;
    if (message.role === 'user') messages.push(...userMessages(message.content, param));
    else messages.push(assistantMessage(message.content, param));
  });
  const chat: Json = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.stop_sequences && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.tools && request.tools.length > 0) {
    chat.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
      },
    }));
    const choice = toolChoice(request.tool_choice);
    if (choice !== undefined) chat.tool_choice = choice;
    if (request.tool_choice?.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  if (typeof request.metadata?.user_id === 'string') chat.user = request.metadata.user_id;
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
