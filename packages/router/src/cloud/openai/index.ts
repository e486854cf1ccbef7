/**
 * OpenAI and OpenAI-compatible upstreams: nothing to translate. Requests keep the client's
 * bytes with only `model` renamed; replies, statuses and SSE data pass through. The stream
 * "translator" only watches the events go by, for usage, first-token time and in-band errors.
 */

import type { SseEvent } from '../../transport/sse.js';
import { CloudError, clientStatusFor, excerpt, isRecord, parseJson, retryHeaders } from '../errors.js';
import type { ChatCompletion, Usage } from '../openai-shapes.js';
import type { CloudProvider, StreamTranslator } from '../provider.js';
import { passthroughBody } from './raw-model.js';

/** Did this OpenAI chunk (chat or completion) carry generated output? */
function carriesOutput(chunk: Record<string, unknown>): boolean {
  const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
  return choices.some((choice) => {
    if (!isRecord(choice)) return false;
    if (typeof choice.text === 'string' && choice.text !== '') return true;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    return (typeof delta.content === 'string' && delta.content !== '') || Array.isArray(delta.tool_calls);
  });
}

export function openAIError(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
) {
  const json = parseJson(body);
  const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
  const message = typeof error?.message === 'string' ? error.message : excerpt(body) || `HTTP ${status}`;
  const code =
    typeof error?.code === 'string' ? error.code : typeof error?.type === 'string' ? error.type : null;
  const param = typeof error?.param === 'string' ? error.param : null;
  return new CloudError(clientStatusFor(status), `openai: ${message}`, code, param, retryHeaders(headers));
}

class PassthroughStream implements StreamTranslator {
  sawFirstToken = false;
  private done = false;
  private lastUsage: Usage | undefined;

  push(event: SseEvent): string[] {
    if (event.data.trim() === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = parseJson(event.data);
    if (isRecord(chunk)) {
      if (isRecord(chunk.error)) throw openAIError(502, JSON.stringify(chunk), {});
      if (isRecord(chunk.usage)) this.lastUsage = chunk.usage as unknown as Usage;
      if (carriesOutput(chunk)) this.sawFirstToken = true;
    }
    return [event.data];
  }

  end(): string[] {
    if (!this.done)
      throw new CloudError(502, 'openai: the stream ended before [DONE]', 'upstream_stream_incomplete');
    return [];
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }
}

export const openAIProvider: CloudProvider = {
  name: 'openai',
  passthrough: true,
  headers: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  translateRequest: ({ kind, model, body, rawBody }) => ({
    method: 'POST',
    path: kind === 'chat' ? '/chat/completions' : '/completions',
    body: passthroughBody(rawBody, body, model),
  }),
  translateResponse: (json) => json as ChatCompletion,
  translateStream: () => new PassthroughStream(),
  mapError: openAIError,
  embeddings: {
    translateRequest: ({ model, body, rawBody }) => ({
      method: 'POST',
      path: '/embeddings',
      body: passthroughBody(rawBody, body, model),
    }),
    translateResponse: (json) => json,
  },
  models: {
    call: { method: 'GET', path: '/models' },
    parse: (json) =>
      isRecord(json) && Array.isArray(json.data)
        ? json.data.flatMap((entry) => (isRecord(entry) && typeof entry.id === 'string' ? [entry.id] : []))
        : [],
  },
};
