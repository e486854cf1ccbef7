/**
 * Turning OpenAI requests into the exact tokens the model reads. Chat uses the GGUF's own chat
 * template when it has one. Without one (e.g. base models like stories260K) a plain transcript
 * is used: one `role: content` line per message, then `assistant:` for the model to continue.
 * It injects no system prompt, so the model sees only what the client sent, and a base model
 * continues it naturally; a new `user:`/`system:` line ends the reply, as it starts a new turn.
 */
import type { ChatCompletionRequest } from '@llm-router/protocol';
import type { ChatHistoryItem, LlamaModel, LlamaText, Token } from 'node-llama-cpp';
import type { LoadedModel } from '../models/loaded-model.js';

export class PromptError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code = 'invalid_request',
  ) {
    super(message);
  }
}

export class ContextLengthError extends PromptError {
  constructor(promptTokens: number, contextSize: number, param: string) {
    super(
      `This model's maximum context length is ${contextSize} tokens, but the prompt has ${promptTokens} tokens ` +
        '(at least one more is needed for the reply). Please shorten the prompt.',
      param,
      'context_length_exceeded',
    );
  }
}

export interface RenderedPrompt {
  /** Prompt tokens without the beginning-of-sequence token (the generator adds it). */
  tokens: Token[];
  /** Template-specific stop triggers (end-of-turn markers), besides the client's `stop`. */
  stopTriggers: (LlamaText | string)[];
  /** The plain template ends with `assistant:`; the space the model writes after it is not content. */
  trimLeadingWhitespace: boolean;
}

type ChatMessage = ChatCompletionRequest['messages'][number];

export const PLAIN_TEMPLATE_STOPS = ['\nuser:', '\nsystem:'];

function messageText(message: ChatMessage, index: number): string {
  const { content } = message;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new PromptError(
          `Content parts of type '${part.type}' are not supported by this node; only 'text' parts are`,
          `messages.${index}.content.${partIndex}.type`,
          'unsupported_parameter',
        );
      }
      return part.text;
    })
    .join('\n');
}

function toHistoryItem(message: ChatMessage, index: number): ChatHistoryItem {
  const extra = message as Record<string, unknown>;
  if (message.role === 'tool' || message.role === 'function' || extra.tool_calls || extra.function_call) {
    throw new PromptError(
      'Tool and function calling are not supported by this node',
      `messages.${index}.role`,
      'unsupported_parameter',
    );
  }
  const text = messageText(message, index);
  if (message.role === 'system' || message.role === 'developer') return { type: 'system', text };
  if (message.role === 'user') return { type: 'user', text };
  return { type: 'model', response: [text] };
}

/** The beginning token llama.cpp would add; the completion generator always prepends it. */
export function beginningToken(model: LlamaModel): Token | null {
  return model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
}

export function renderChatPrompt(loaded: LoadedModel, messages: ChatMessage[]): RenderedPrompt {
  const history = messages.map(toHistoryItem);
  const { model, chatWrapper } = loaded;
  if (!chatWrapper) {
    const roleName = { system: 'system', user: 'user', model: 'assistant' } as const;
    const lines = history.map((item) =>
      item.type === 'model' ? `assistant: ${item.response.join('')}` : `${roleName[item.type]}: ${item.text}`,
    );
    const text = `${lines.join('\n')}\nassistant:`;
    // specialTokens=false: text a client sends is never read as control tokens.
    return {
      tokens: model.tokenize(text, false),
      stopTriggers: PLAIN_TEMPLATE_STOPS,
      trimLeadingWhitespace: true,
    };
  }
  let state: ReturnType<typeof chatWrapper.generateContextState>;
  try {
    state = chatWrapper.generateContextState({ chatHistory: [...history, { type: 'model', response: [] }] });
  } catch (error) {
    throw new PromptError(
      `The model's chat template rejected these messages: ${(error as Error).message}`,
      'messages',
    );
  }
  const tokens = state.contextText.tokenize(model.tokenizer);
  const bos = beginningToken(model);
  if (bos !== null && tokens[0] === bos) tokens.shift();
  return { tokens, stopTriggers: state.stopGenerationTriggers, trimLeadingWhitespace: false };
}

export function renderCompletionPrompt(loaded: LoadedModel, prompt: string): RenderedPrompt {
  return { tokens: loaded.model.tokenize(prompt, false), stopTriggers: [], trimLeadingWhitespace: false };
}

/** Tokens the model reads for this prompt, the beginning token included (what usage reports). */
export function promptTokenCount(model: LlamaModel, tokens: readonly Token[]): number {
  return tokens.length + (beginningToken(model) === null ? 0 : 1);
}

/** Rejects prompts that leave no room for a reply: llama.cpp would silently drop their start. */
export function assertPromptFits(promptTokens: number, contextSize: number, param: string): void {
  if (promptTokens >= contextSize) throw new ContextLengthError(promptTokens, contextSize, param);
}
