/**
 * The one interface every cloud provider module implements (`cloud/openai`, `cloud/anthropic`,
 * `cloud/google`): translate request, translate response, translate stream, map errors, and
 * embeddings where the provider has them. The driver in `forward.ts` owns everything else
 * (keys, HTTP, timeouts, SSE framing, completions, metrics), so a provider is pure mapping.
 */

import type { SseEvent } from '../transport/sse.js';
import type { CloudError } from './errors.js';
import type { ChatChunk, ChatCompletion, ResponseContext, Usage } from './openai-shapes.js';
import type { CloudProviderName } from './types.js';

export interface UpstreamCall {
  method: 'GET' | 'POST';
  /** Appended to the provider's versioned API root; starts with `/`. */
  path: string;
  body?: string | Buffer;
}

export interface TranslateInput {
  /** `completions` only reaches passthrough providers; the driver turns it into chat otherwise. */
  kind: 'chat' | 'completions';
  /** Upstream model name (prefix stripped). */
  model: string;
  body: Record<string, unknown>;
  /** The client's bytes, for passthrough providers. */
  rawBody: Buffer | undefined;
}

export interface EmbeddingsInput {
  model: string;
  body: Record<string, unknown>;
  rawBody: Buffer | undefined;
}

/**
 * Turns upstream SSE events into OpenAI stream frames as they arrive. A frame is either a chat
 * chunk object (translated providers) or an already OpenAI-shaped `data:` payload relayed as is
 * (passthrough). In-band upstream errors are thrown as `CloudError`.
 */
export interface StreamTranslator {
  push(event: SseEvent): Array<ChatChunk | string>;
  /** The upstream body ended; throws when the stream stopped before its end marker. */
  end(): Array<ChatChunk | string>;
  /** Usage as the provider last reported it (never summed across events). */
  usage(): Usage | undefined;
  /** True once a frame carried generated content: the moment "time to first token" measures. */
  readonly sawFirstToken: boolean;
}

export interface EmbeddingsTranslation {
  translateRequest(input: EmbeddingsInput): UpstreamCall;
  /** `encodingFormat` is what the client asked for; the provider may only return floats. */
  translateResponse(
    json: unknown,
    context: ResponseContext & { encodingFormat: 'float' | 'base64' },
  ): unknown;
}

export interface CloudProvider {
  readonly name: CloudProviderName;
  /**
   * The upstream speaks OpenAI already: request bytes pass through with only `model` changed,
   * non-streamed replies are relayed byte for byte and SSE data payloads event by event.
   */
  readonly passthrough: boolean;
  /** Authentication (and API version) headers for every call. */
  headers(apiKey: string): Record<string, string>;
  translateRequest(input: TranslateInput): UpstreamCall;
  translateResponse(json: unknown, context: ResponseContext): ChatCompletion;
  translateStream(context: ResponseContext): StreamTranslator;
  /** Upstream non-2xx reply → the OpenAI-shaped error the client gets. */
  mapError(status: number, body: string, headers: Record<string, string | string[] | undefined>): CloudError;
  /** Absent: the provider has no embeddings and the client gets a 400. */
  embeddings: EmbeddingsTranslation | undefined;
  models: { call: UpstreamCall; parse(json: unknown): string[] };
}
