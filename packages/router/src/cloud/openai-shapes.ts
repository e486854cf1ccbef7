/**
 * The OpenAI wire shapes the translated providers read and write. Only the fields the router
 * maps are typed; the client body itself arrives as `Record<string, unknown>` and is read
 * defensively (see `request-fields.ts`).
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** Provider data the client must echo back (Gemini thought signatures), as Gemini's own OpenAI layer writes it. */
  extra_content?: { google?: { thought_signature?: string } };
}

/** One entry of a streamed `delta.tool_calls`; only the first delta of a call carries id and name. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
  extra_content?: ToolCall['extra_content'];
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  refusal: null;
  tool_calls?: ToolCall[];
}

export interface ChatChoice {
  index: number;
  message: AssistantMessage;
  logprobs: null;
  finish_reason: FinishReason;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
  tool_calls?: ToolCallDelta[];
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  logprobs: null;
  finish_reason: FinishReason | null;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
}

/** What a response translator needs to know about the client's request. */
export interface ResponseContext {
  /** The model name the client sees in replies: `<provider>:<model>`. */
  publicModel: string;
  created: number;
}

export function buildUsage(
  prompt: number,
  completion: number,
  extra: { cached?: number; reasoning?: number; total?: number } = {},
): Usage {
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: extra.total ?? prompt + completion,
  };
  if (extra.cached) usage.prompt_tokens_details = { cached_tokens: extra.cached };
  if (extra.reasoning) usage.completion_tokens_details = { reasoning_tokens: extra.reasoning };
  return usage;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
