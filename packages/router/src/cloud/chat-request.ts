/**
 * Reads an OpenAI chat request into one provider-neutral form, so the Anthropic and Google
 * translators share the validation and only decide how to write each piece. Anything the
 * router cannot carry to any translated provider is rejected here with a 400 naming the field,
 * rather than silently dropped; sampling-only knobs the providers lack are dropped instead
 * (see docs/cloud.md).
 */
import { invalidRequest, isRecord, unsupported } from './errors.js';

export type MediaSource =
  | { type: 'base64'; mediaType: string; data: string }
  | { type: 'url'; url: string; mediaType: string | undefined };

export type ContentPart =
  | { kind: 'text'; text: string }
  | { kind: 'image'; source: MediaSource }
  | { kind: 'file'; source: MediaSource & { type: 'base64' } };

export interface RequestedToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** Gemini's thought signature, echoed back by the client in `extra_content`. */
  thoughtSignature: string | undefined;
}

export type ChatTurn =
  | { role: 'system'; text: string }
  | { role: 'user'; parts: ContentPart[] }
  | { role: 'assistant'; parts: ContentPart[]; toolCalls: RequestedToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface FunctionTool {
  name: string;
  description: string | undefined;
  parameters: Record<string, unknown> | undefined;
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'function'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; schema: Record<string, unknown>; name: string | undefined };

export interface ChatRequest {
  turns: ChatTurn[];
  tools: FunctionTool[];
  toolChoice: ToolChoice | undefined;
  parallelToolCalls: boolean | undefined;
  stop: string[];
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  n: number;
  seed: number | undefined;
  presencePenalty: number | undefined;
  frequencyPenalty: number | undefined;
  responseFormat: ResponseFormat | undefined;
  stream: boolean;
  includeUsage: boolean;
  user: string | undefined;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+)?((?:;[^;,]+)*?);base64,(.*)$/s.exec(url);
  if (!match) return undefined;
  return { mediaType: match[1] ?? 'application/octet-stream', data: match[3] };
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** The media type a URL's file extension suggests, if any. */
export function mediaTypeFromUrl(url: string): string | undefined {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not a full URL: use it as a path
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? EXTENSION_TYPES[extension] : undefined;
}

function readPart(part: unknown, param: string): ContentPart {
  if (!isRecord(part)) throw invalidRequest('Content parts must be objects', param);
  switch (part.type) {
    case 'text':
    case 'refusal': {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (typeof text !== 'string') throw invalidRequest(`'${param}.text' must be a string`, param);
      return { kind: 'text', text };
    }
    case 'image_url': {
      const raw = part.image_url;
      const url = typeof raw === 'string' ? raw : isRecord(raw) ? raw.url : undefined;
      if (typeof url !== 'string') throw invalidRequest(`'${param}.image_url.url' must be a string`, param);
      const inline = parseDataUrl(url);
      if (inline) return { kind: 'image', source: { type: 'base64', ...inline } };
      if (url.startsWith('data:')) throw invalidRequest('Image data URLs must be base64-encoded', param);
      return { kind: 'image', source: { type: 'url', url, mediaType: mediaTypeFromUrl(url) } };
    }
    case 'file': {
      const file = isRecord(part.file) ? part.file : {};
      const inline = typeof file.file_data === 'string' ? parseDataUrl(file.file_data) : undefined;
      if (!inline) {
        throw unsupported(
          'Only files sent inline as a base64 data URL (file.file_data) can go to this provider',
          param,
        );
      }
      return { kind: 'file', source: { type: 'base64', ...inline } };
    }
    default:
      throw unsupported(`Content part type '${String(part.type)}' is not supported for this provider`, param);
  }
}

function readParts(content: unknown, param: string): ContentPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content))
    throw invalidRequest(`'${param}' must be a string or an array of parts`, param);
  return content.map((part, index) => readPart(part, `${param}[${index}]`));
}

/** Plain text of a message whose parts must all be text (system and tool messages). */
function readText(content: unknown, param: string): string {
  return readParts(content, param)
    .map((part) => {
      if (part.kind !== 'text') throw unsupported(`'${param}' may only contain text`, param);
      return part.text;
    })
    .join('\n');
}

function readToolCalls(raw: unknown, param: string): RequestedToolCall[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidRequest(`'${param}' must be an array`, param);
  return raw.map((call, index) => {
    const at = `${param}[${index}]`;
    if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') {
      throw invalidRequest(`'${at}' must be a function tool call with a name`, at);
    }
    const text = typeof call.function.arguments === 'string' ? call.function.arguments : '';
    let args: unknown = {};
    try {
      args = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw invalidRequest(`'${at}.function.arguments' is not valid JSON`, `${at}.function.arguments`);
    }
    if (!isRecord(args)) throw invalidRequest(`'${at}.function.arguments' must be a JSON object`, at);
    const extra =
      isRecord(call.extra_content) && isRecord(call.extra_content.google) ? call.extra_content.google : {};
    return {
      id: typeof call.id === 'string' ? call.id : `call_${index}`,
      name: call.function.name,
      arguments: args,
      thoughtSignature: typeof extra.thought_signature === 'string' ? extra.thought_signature : undefined,
    };
  });
}

function readTurn(message: unknown, index: number): ChatTurn {
  const param = `messages[${index}]`;
  if (!isRecord(message)) throw invalidRequest(`'${param}' must be an object`, param);
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text: readText(message.content, `${param}.content`) };
    case 'user':
      return { role: 'user', parts: readParts(message.content, `${param}.content`) };
    case 'assistant':
      return {
        role: 'assistant',
        parts: readParts(message.content, `${param}.content`),
        toolCalls: readToolCalls(message.tool_calls, `${param}.tool_calls`),
      };
    case 'tool':
      if (typeof message.tool_call_id !== 'string') {
        throw invalidRequest(`'${param}.tool_call_id' is required on tool messages`, `${param}.tool_call_id`);
      }
      return {
        role: 'tool',
        toolCallId: message.tool_call_id,
        content: readText(message.content, `${param}.content`),
      };
    default:
      throw unsupported(
        `Message role '${String(message.role)}' is not supported for this provider; use tools and tool messages`,
        `${param}.role`,
      );
  }
}

function readTools(raw: unknown): FunctionTool[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidRequest("'tools' must be an array", 'tools');
  return raw.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw unsupported(`Only function tools are supported for this provider`, param);
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string') throw invalidRequest(`'${param}.function.name' is required`, param);
    return {
      name: fn.name,
      description: typeof fn.description === 'string' ? fn.description : undefined,
      parameters: isRecord(fn.parameters) ? fn.parameters : undefined,
    };
  });
}

function readToolChoice(raw: unknown): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  if (
    isRecord(raw) &&
    raw.type === 'function' &&
    isRecord(raw.function) &&
    typeof raw.function.name === 'string'
  ) {
    return { type: 'function', name: raw.function.name };
  }
  throw unsupported("'tool_choice' must be 'auto', 'none', 'required' or a function", 'tool_choice');
}

function readResponseFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (isRecord(raw) && (raw.type === 'text' || raw.type === 'json_object')) return { type: raw.type };
  if (
    isRecord(raw) &&
    raw.type === 'json_schema' &&
    isRecord(raw.json_schema) &&
    isRecord(raw.json_schema.schema)
  ) {
    const name = raw.json_schema.name;
    return {
      type: 'json_schema',
      schema: raw.json_schema.schema,
      name: typeof name === 'string' ? name : undefined,
    };
  }
  throw unsupported(
    "'response_format' must be text, json_object or json_schema with a schema",
    'response_format',
  );
}

/** Rejects a field only when it asks for something: `false`, `0` and `null` ask for nothing. */
function rejectPresent(body: Record<string, unknown>, field: string, why: string): void {
  const value = body[field];
  if (value !== undefined && value !== null && value !== false && value !== 0) {
    throw unsupported(`'${field}' ${why}`, field);
  }
}

export function readChatRequest(body: Record<string, unknown>): ChatRequest {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw invalidRequest("'messages' must be a non-empty array", 'messages');
  }
  rejectPresent(body, 'logprobs', 'is not available for this provider');
  rejectPresent(body, 'top_logprobs', 'is not available for this provider');
  rejectPresent(body, 'audio', 'output is not available for this provider');
  rejectPresent(body, 'functions', 'is the legacy form; send tools instead');
  rejectPresent(body, 'function_call', 'is the legacy form; send tool_choice instead');
  const stop = body.stop;
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    turns: body.messages.map(readTurn),
    tools: readTools(body.tools),
    toolChoice: readToolChoice(body.tool_choice),
    parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    stop:
      typeof stop === 'string'
        ? [stop]
        : Array.isArray(stop)
          ? stop.filter((s) => typeof s === 'string')
          : [],
    maxTokens: num(body.max_completion_tokens) ?? num(body.max_tokens),
    temperature: num(body.temperature),
    topP: num(body.top_p),
    n: num(body.n) ?? 1,
    seed: num(body.seed),
    presencePenalty: num(body.presence_penalty),
    frequencyPenalty: num(body.frequency_penalty),
    responseFormat: readResponseFormat(body.response_format),
    stream: body.stream === true,
    includeUsage: body.stream === true && streamOptions.include_usage === true,
    user: typeof body.user === 'string' ? body.user : undefined,
  };
}
