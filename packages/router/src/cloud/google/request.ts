/**
 * OpenAI chat request → Gemini `generateContent` request.
 *
 * - system/developer messages → `systemInstruction`; assistant → role `model`;
 * - images: data URLs → `inlineData`, http(s) URLs → `fileData.fileUri`;
 * - tool calls → `functionCall` parts; tool results → `functionResponse` parts, which Gemini
 *   matches by function *name*, so the name is looked up from the assistant turn that made the call;
 * - Gemini 3 rejects a replayed function call without its thought signature: the signature
 *   comes back from the client in `extra_content.google.thought_signature` (as we sent it), and
 *   where a client dropped it the documented "skip validator" value is sent instead.
 */
import type { ChatRequest, ChatTurn, ContentPart, RequestedToolCall } from '../chat-request.js';
import { invalidRequest } from '../errors.js';

type Part = Record<string, unknown>;
interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

/** Ids the router made up for calls Gemini gave none; they are not sent back to Gemini. */
export const SYNTHETIC_CALL_ID = /^call_[0-9a-f]{24}$/;
const SKIP_SIGNATURE = 'skip_thought_signature_validator';

function needsThoughtSignatures(model: string): boolean {
  const major = /^gemini-(\d+)/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}

function contentPart(part: ContentPart): Part {
  switch (part.kind) {
    case 'text':
      return { text: part.text };
    case 'image':
    case 'file':
      return part.source.type === 'base64'
        ? { inlineData: { mimeType: part.source.mediaType, data: part.source.data } }
        : { fileData: { mimeType: part.source.mediaType ?? 'image/jpeg', fileUri: part.source.url } };
  }
}

function functionCallPart(call: RequestedToolCall, signature: string | undefined): Part {
  const functionCall: Record<string, unknown> = { name: call.name, args: call.arguments };
  if (!SYNTHETIC_CALL_ID.test(call.id)) functionCall.id = call.id;
  return signature ? { functionCall, thoughtSignature: signature } : { functionCall };
}

/** Tool output as the object Gemini's `functionResponse.response` requires. */
function toolResponse(content: string): Record<string, unknown> {
  try {
    return { output: JSON.parse(content) };
  } catch {
    return { output: content };
  }
}

function turnContent(
  turn: Exclude<ChatTurn, { role: 'system' }>,
  model: string,
  callNames: Map<string, string>,
  index: number,
): Content {
  switch (turn.role) {
    case 'user':
      return { role: 'user', parts: turn.parts.map(contentPart) };
    case 'assistant': {
      const skip = needsThoughtSignatures(model) ? SKIP_SIGNATURE : undefined;
      return {
        role: 'model',
        parts: [
          ...turn.parts.map(contentPart),
          // Gemini signs the first call of a step; only that one needs a stand-in signature.
          ...turn.toolCalls.map((call, i) =>
            functionCallPart(call, call.thoughtSignature ?? (i === 0 ? skip : undefined)),
          ),
        ],
      };
    }
    case 'tool': {
      const name = callNames.get(turn.toolCallId);
      if (name === undefined) {
        throw invalidRequest(
          `messages[${index}].tool_call_id '${turn.toolCallId}' matches no tool call of an earlier assistant message`,
          `messages[${index}].tool_call_id`,
        );
      }
      const functionResponse: Record<string, unknown> = { name, response: toolResponse(turn.content) };
      if (!SYNTHETIC_CALL_ID.test(turn.toolCallId)) functionResponse.id = turn.toolCallId;
      return { role: 'user', parts: [{ functionResponse }] };
    }
  }
}

/** Parallel function responses belong in one content; Gemini also prefers alternating roles. */
function mergeConsecutive(contents: Content[]): Content[] {
  const merged: Content[] = [];
  for (const content of contents) {
    const previous = merged[merged.length - 1];
    if (previous && previous.role === content.role) previous.parts.push(...content.parts);
    else merged.push({ role: content.role, parts: [...content.parts] });
  }
  return merged;
}

function toolConfig(chat: ChatRequest): Record<string, unknown> | undefined {
  const choice = chat.toolChoice;
  if (!choice || chat.tools.length === 0) return undefined;
  if (choice.type === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice.type === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice.type === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
}

function generationConfig(chat: ChatRequest): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) config[key] = value;
  };
  set('temperature', chat.temperature);
  set('topP', chat.topP);
  set('maxOutputTokens', chat.maxTokens);
  if (chat.stop.length > 0) config.stopSequences = chat.stop;
  if (chat.n > 1) config.candidateCount = chat.n;
  set('seed', chat.seed);
  set('presencePenalty', chat.presencePenalty);
  set('frequencyPenalty', chat.frequencyPenalty);
  if (chat.responseFormat?.type === 'json_object') config.responseMimeType = 'application/json';
  if (chat.responseFormat?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = chat.responseFormat.schema;
  }
  return config;
}

export function toGeminiRequest(chat: ChatRequest, model: string): Record<string, unknown> {
  const callNames = new Map<string, string>();
  for (const turn of chat.turns) {
    if (turn.role === 'assistant') for (const call of turn.toolCalls) callNames.set(call.id, call.name);
  }
  const system = chat.turns.flatMap((turn) =>
    turn.role === 'system' && turn.text !== '' ? [{ text: turn.text }] : [],
  );
  const contents = mergeConsecutive(
    chat.turns.flatMap((turn, index) => {
      if (turn.role === 'system') return [];
      const content = turnContent(turn, model, callNames, index);
      return content.parts.length === 0 ? [] : [content];
    }),
  );
  const request: Record<string, unknown> = { contents };
  if (system.length > 0) request.systemInstruction = { parts: system };
  if (chat.tools.length > 0) {
    request.tools = [
      {
        functionDeclarations: chat.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          ...(tool.parameters !== undefined ? { parametersJsonSchema: tool.parameters } : {}),
        })),
      },
    ];
  }
  const tools = toolConfig(chat);
  if (tools) request.toolConfig = tools;
  const config = generationConfig(chat);
  if (Object.keys(config).length > 0) request.generationConfig = config;
  return request;
}

/** `gemini-2.5-flash`, `models/gemini-2.5-flash` or `tunedModels/x` → the resource path segment. */
export function geminiModelPath(model: string): string {
  const path = model.includes('/') ? model : `models/${model}`;
  if (!/^(models|tunedModels)\/[A-Za-z0-9._-]+$/.test(path)) {
    throw invalidRequest(`'${model}' is not a valid Gemini model name`, 'model');
  }
  return path;
}
