/**
 * OpenAI Responses request → OpenAI chat request, for every backend that is not OpenAI itself
 * (local nodes, `google:`, `anthropic:` through the cloud translation). `input` (a string or
 * items: messages with `input_text`/`input_image`, earlier `function_call`s and their
 * `function_call_output`s) becomes chat messages; `instructions` a system message; function
 * tools chat tools. Items and tools chat cannot express are refused with a 400 naming them.
 */
import { badRequest } from '../../http/errors.js';

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function contentParts(content: unknown, role: string, param: string): string | Json[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw badRequest(`'${param}' must be a string or an array of parts`, param);
  const parts = content.map((part, index): Json => {
    const at = `${param}[${index}]`;
    if (!isRecord(part)) throw badRequest(`'${at}' must be an object`, at);
    if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string') {
      return { type: 'text', text: part.text };
    }
    if (part.type === 'refusal' && typeof part.refusal === 'string')
      return { type: 'text', text: part.refusal };
    if (part.type === 'input_image' && role === 'user') {
      if (typeof part.image_url !== 'string') {
        throw badRequest(`'${at}': only images given by image_url (a URL or data URL) are supported`, at);
      }
      return { type: 'image_url', image_url: { url: part.image_url, detail: part.detail ?? 'auto' } };
    }
    throw badRequest(`Content part type '${String(part.type)}' is not supported here`, at);
  });
  return parts.every((part) => part.type === 'text')
    ? parts.map((part) => part.text as string).join('')
    : parts;
}

/** Response input (or output) items → chat messages, in order. */
export function itemsToChat(input: unknown, param = 'input'): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) throw badRequest(`'${param}' must be a string or an array of items`, param);
  const messages: Json[] = [];
  input.forEach((item, index) => {
    const at = `${param}[${index}]`;
    if (!isRecord(item)) throw badRequest(`'${at}' must be an object`, at);
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
        throw badRequest(`'${at}.role' must be user, assistant, system or developer`, `${at}.role`);
      }
      const content = contentParts(item.content, role, `${at}.content`);
      messages.push({ role: role === 'developer' ? 'system' : role, content });
    } else if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
        throw badRequest(`'${at}' needs call_id and name`, at);
      }
      const call = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' },
      };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
      else if (last?.role === 'assistant' && !last.tool_calls) last.tool_calls = [call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') throw badRequest(`'${at}.call_id' is required`, `${at}.call_id`);
      const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '');
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: output });
    } else if (type === 'reasoning') {
      // Earlier reasoning is not sent back to chat models.
    } else {
      throw badRequest(`Input item type '${String(type)}' is not supported here`, at);
    }
  });
  return messages;
}

function tools(raw: unknown): Json[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw badRequest("'tools' must be an array", 'tools');
  if (raw.length === 0) return undefined;
  return raw.map((tool, index) => {
    const at = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || typeof tool.name !== 'string') {
      throw badRequest(
        `'${at}': only function tools are supported here (got '${isRecord(tool) ? String(tool.type) : typeof tool}')`,
        at,
      );
    }
    return {
      type: 'function',
      function: {
        name: tool.name,
        ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
        parameters: isRecord(tool.parameters) ? tool.parameters : { type: 'object', properties: {} },
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    };
  });
}

function toolChoice(raw: unknown): unknown {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  if (isRecord(raw) && raw.type === 'function' && typeof raw.name === 'string') {
    return { type: 'function', function: { name: raw.name } };
  }
  throw badRequest("'tool_choice' must be 'auto', 'none', 'required' or a function", 'tool_choice');
}

function responseFormat(text: unknown): unknown {
  const format = isRecord(text) && isRecord(text.format) ? text.format : undefined;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      json_schema: { name: format.name ?? 'response', schema: format.schema, strict: format.strict },
    };
  }
  throw badRequest(`'text.format.type' '${String(format.type)}' is not supported`, 'text.format');
}

/**
 * The chat body for a Responses request. `history` is the conversation so far (from
 * `previous_response_id`), `input` this request's messages.
 */
export function responsesToChat(body: Json, history: Json[], input: Json[]): Json {
  const messages: Json[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') {
    messages.push({ role: 'system', content: body.instructions });
  }
  messages.push(...history, ...input);
  const chat: Json = { model: body.model, messages };
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') chat.temperature = body.temperature;
  if (typeof body.top_p === 'number') chat.top_p = body.top_p;
  const chatTools = tools(body.tools);
  if (chatTools) {
    chat.tools = chatTools;
    const choice = toolChoice(body.tool_choice);
    if (choice !== undefined) chat.tool_choice = choice;
    if (body.parallel_tool_calls === false) chat.parallel_tool_calls = false;
  }
  const format = responseFormat(body.text);
  if (format) chat.response_format = format;
  if (typeof body.user === 'string') chat.user = body.user;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
