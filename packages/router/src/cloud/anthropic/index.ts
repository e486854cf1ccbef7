/**
 * Anthropic Messages API behind `anthropic:` (and the alias `ahtnorpic:`). Anthropic has no
 * embeddings endpoint, so `embeddings` is absent and the driver answers 400.
 */
import { readChatRequest } from '../chat-request.js';
import { isRecord } from '../errors.js';
import type { CloudProvider } from '../provider.js';
import { anthropicError } from './errors.js';
import { toAnthropicRequest } from './request.js';
import { fromAnthropicMessage } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export interface AnthropicProviderOptions {
  /** Sent as `anthropic-version`. */
  version: string;
  /** Used when the client sets neither `max_tokens` nor `max_completion_tokens`. */
  defaultMaxTokens: number;
}

export function createAnthropicProvider(options: AnthropicProviderOptions): CloudProvider {
  return {
    name: 'anthropic',
    passthrough: false,
    headers: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': options.version }),
    translateRequest: ({ model, body }) => ({
      method: 'POST',
      path: '/messages',
      body: JSON.stringify(
        toAnthropicRequest(readChatRequest(body), { model, defaultMaxTokens: options.defaultMaxTokens }),
      ),
    }),
    translateResponse: fromAnthropicMessage,
    translateStream: (context) => new AnthropicStreamTranslator(context),
    mapError: anthropicError,
    embeddings: undefined,
    models: {
      call: { method: 'GET', path: '/models?limit=1000' },
      parse: (json) =>
        isRecord(json) && Array.isArray(json.data)
          ? json.data.flatMap((entry) => (isRecord(entry) && typeof entry.id === 'string' ? [entry.id] : []))
          : [],
    },
  };
}
