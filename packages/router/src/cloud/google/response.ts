/**
 * Gemini `GenerateContentResponse` → OpenAI chat completion, plus the pieces the stream shares:
 * parts → text and tool calls, `finishReason` → `finish_reason`, `usageMetadata` → usage.
 * Gemini reports `STOP` when it calls functions, so a candidate with calls finishes `tool_calls`.
 */
import { randomBytes } from 'node:crypto';
import { CloudError, isRecord } from '../errors.js';
import {
  buildUsage,
  type ChatChoice,
  type ChatCompletion,
  type FinishReason,
  type ResponseContext,
  type ToolCall,
  type Usage,
} from '../openai-shapes.js';

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
]);

export function geminiFinishReason(reason: unknown, madeToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return madeToolCalls ? 'tool_calls' : 'stop';
}

const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** Thinking tokens are output the client pays for, as OpenAI counts reasoning tokens. */
export function geminiUsage(metadata: Record<string, unknown>): Usage {
  const prompt = count(metadata.promptTokenCount) + count(metadata.toolUsePromptTokenCount);
  const thoughts = count(metadata.thoughtsTokenCount);
  const completion = count(metadata.candidatesTokenCount) + thoughts;
  const total = typeof metadata.totalTokenCount === 'number' ? metadata.totalTokenCount : undefined;
  return buildUsage(prompt, completion, {
    cached: count(metadata.cachedContentTokenCount),
    reasoning: thoughts,
    total,
  });
}

export function newCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

/** One `functionCall` part → an OpenAI tool call, keeping Gemini's thought signature for the round trip. */
export function toolCallFromPart(part: Record<string, unknown>): ToolCall | undefined {
  const call = isRecord(part.functionCall) ? part.functionCall : undefined;
  if (!call || typeof call.name !== 'string') return undefined;
  const toolCall: ToolCall = {
    id: typeof call.id === 'string' && call.id !== '' ? call.id : newCallId(),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
  if (typeof part.thoughtSignature === 'string') {
    toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
  }
  return toolCall;
}

/** Visible text of a part; thought summaries (`thought: true`) are not part of the answer. */
export function textOfPart(part: Record<string, unknown>): string {
  return typeof part.text === 'string' && part.thought !== true ? part.text : '';
}

export function candidateParts(candidate: Record<string, unknown>): Record<string, unknown>[] {
  const content = isRecord(candidate.content) ? candidate.content : {};
  return Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
}

function choiceOf(candidate: Record<string, unknown>, position: number): ChatChoice {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidateParts(candidate)) {
    text += textOfPart(part);
    const call = toolCallFromPart(part);
    if (call) toolCalls.push(call);
  }
  return {
    index: typeof candidate.index === 'number' ? candidate.index : position,
    message: {
      role: 'assistant',
      content: text === '' && toolCalls.length > 0 ? null : text,
      refusal: null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    logprobs: null,
    finish_reason: geminiFinishReason(candidate.finishReason, toolCalls.length > 0),
  };
}

export function fromGeminiResponse(json: unknown, context: ResponseContext): ChatCompletion {
  if (!isRecord(json))
    throw new CloudError(
      502,
      'google: the reply is not a GenerateContentResponse',
      'upstream_invalid_response',
    );
  const candidates = Array.isArray(json.candidates) ? json.candidates.filter(isRecord) : [];
  const choices = candidates.map(choiceOf);
  if (choices.length === 0) {
    // The prompt itself was blocked (promptFeedback.blockReason): no candidate at all.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  }
  const completion: ChatCompletion = {
    id: typeof json.responseId === 'string' ? json.responseId : `chatcmpl-google-${newCallId().slice(5)}`,
    object: 'chat.completion',
    created: context.created,
    model: context.publicModel,
    choices,
  };
  if (isRecord(json.usageMetadata)) completion.usage = geminiUsage(json.usageMetadata);
  return completion;
}
