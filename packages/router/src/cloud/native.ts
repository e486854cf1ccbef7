/**
 * Native passthrough: a request whose format is the provider's own (Anthropic Messages to
 * `anthropic:`, OpenAI Responses to `openai:`) goes to the provider as sent, with only `model`
 * renamed, and the reply (JSON or SSE) comes back byte for byte. The router only watches the
 * stream for what history needs: usage, time to first token, an in-band error, the final object.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import type { InferenceResult } from '../history/types.js';
import { CLIENT_CLOSED_STATUS, openSseReply, watchClient, writeToClient } from '../transport/client.js';
import { SseParser } from '../transport/sse.js';
import { readEventUsage, readUsage, type TokenUsage } from '../transport/usage.js';
import type { CloudConfig } from './config.js';
import { descriptorOf } from './descriptors.js';
import { CloudError, networkError, parseJson, retryHeaders } from './errors.js';
import type { CloudMetrics } from './metrics.js';
import { passthroughBody } from './openai/raw-model.js';
import type { CloudProvider } from './provider.js';
import type { CloudModelRef, CloudProviderName } from './types.js';
import { headerValue, type UpstreamClient } from './upstream.js';

export interface NativeForwardInput {
  /** The model as the client named it (with its prefix). */
  ref: CloudModelRef;
  /** Appended to the provider's API root, e.g. `/messages`, `/responses`. */
  path: string;
  body: Record<string, unknown>;
  rawBody: Buffer | undefined;
  reply: FastifyReply;
  /** Renders an error the router itself produces, in the endpoint's shape. */
  errorBody(status: number, message: string): object;
  /** Extra request headers to pass on (e.g. `anthropic-beta`). */
  headers?: Record<string, string>;
}

export interface NativeForwardResult extends InferenceResult {
  /** The final reply object (JSON body, or the stream's last complete object) when there is one. */
  final?: unknown;
}

export interface NativeDeps {
  config: CloudConfig;
  providers: Record<CloudProviderName, CloudProvider>;
  client: UpstreamClient;
  metrics: CloudMetrics;
}

/** Events that carry the final object: Anthropic's message_start (then deltas), Responses' completed. */
function finalOf(event: Record<string, unknown>): unknown {
  if (
    event.type === 'response.completed' ||
    event.type === 'response.incomplete' ||
    event.type === 'response.failed'
  ) {
    return event.response;
  }
  return undefined;
}

/** Generated text in a stream event (Anthropic text deltas, Responses text deltas). */
function textOf(event: Record<string, unknown>): string {
  if (event.type === 'content_block_delta') {
    const delta = event.delta as { text?: unknown } | undefined;
    return typeof delta?.text === 'string' ? delta.text : '';
  }
  if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') return event.delta;
  return '';
}

const MAX_TEXT = 64 * 1024;

export async function forwardNative(
  deps: NativeDeps,
  input: NativeForwardInput,
): Promise<NativeForwardResult> {
  const { ref, reply } = input;
  const startedAt = performance.now();
  const provider = deps.providers[ref.provider];
  const settings = deps.config.providers[ref.provider];
  const stream = input.body.stream === true;
  const base = { nodeId: null, cloudProvider: ref.provider, streamed: stream, failedAttempts: [] };
  const fail = (error: CloudError, recordLatency = true): NativeForwardResult => {
    if (!reply.sent && !reply.raw.headersSent) {
      reply.code(error.status).headers(error.headers).send(input.errorBody(error.status, error.message));
    }
    deps.metrics.recordRequest(ref.provider, error.status, recordLatency ? elapsed() : undefined);
    return { ...base, status: error.status, success: false, errorMessage: error.message };
  };
  const elapsed = () => (performance.now() - startedAt) / 1000;
  if (!settings.apiKey) {
    const variable = descriptorOf(ref.provider).keyVariable;
    return fail(new CloudError(401, `${variable} is required for ${ref.provider}: models`), false);
  }
  const body = passthroughBody(input.rawBody, input.body, ref.model);
  const watch = watchClient(reply);
  const gone = (): NativeForwardResult => {
    if (!reply.sent) reply.hijack();
    reply.raw.destroy();
    deps.metrics.recordRequest(ref.provider, CLIENT_CLOSED_STATUS, elapsed());
    return {
      ...base,
      status: CLIENT_CLOSED_STATUS,
      success: false,
      errorMessage: 'client closed the connection',
    };
  };
  try {
    let upstream: Awaited<ReturnType<UpstreamClient['send']>>;
    try {
      upstream = await deps.client.send({
        method: 'POST',
        url: settings.apiRoot + input.path,
        headers: {
          ...(input.headers ?? {}),
          ...provider.headers(settings.apiKey),
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
        },
        body,
        signal: watch.signal,
      });
    } catch (error) {
      if (watch.signal.aborted) return gone();
      return fail(networkError(ref.provider, error));
    }
    const contentType = headerValue(upstream.headers, 'content-type') ?? 'application/json';
    if (upstream.status < 400 && contentType.includes('text/event-stream')) {
      const raw = openSseReply(reply, upstream.status, contentType);
      raw.flushHeaders();
      const parser = new SseParser();
      let usage: TokenUsage = {};
      let final: unknown;
      let text = '';
      let firstTokenMs: number | undefined;
      let streamError: string | null = null;
      const inspect = (data: string) => {
        const event = parseJson(data);
        if (typeof event !== 'object' || event === null) return;
        const record = event as Record<string, unknown>;
        usage = { ...usage, ...(readEventUsage(record) ?? {}) };
        final = finalOf(record) ?? final;
        const piece = textOf(record);
        if (piece !== '') {
          firstTokenMs ??= performance.now() - startedAt;
          if (text.length < MAX_TEXT) text += piece.slice(0, MAX_TEXT - text.length);
        }
        if (record.type === 'error' || record.type === 'response.failed') {
          const error = (record.error ?? (record.response as { error?: unknown } | undefined)?.error) as
            | { message?: unknown }
            | undefined;
          streamError = typeof error?.message === 'string' ? error.message : 'upstream stream error';
        }
      };
      try {
        for await (const chunk of upstream.body) {
          await writeToClient(raw, chunk as Buffer, watch.signal);
          for (const event of parser.push(chunk)) inspect(event.data);
        }
        for (const event of parser.end()) inspect(event.data);
      } catch (error) {
        if (watch.signal.aborted || raw.destroyed) return gone();
        const mapped = networkError(ref.provider, error);
        streamError = mapped.message;
        raw.write(
          `event: error\ndata: ${JSON.stringify(input.errorBody(mapped.status, mapped.message))}\n\n`,
        );
      }
      raw.end();
      const status = streamError ? 502 : upstream.status;
      deps.metrics.recordRequest(ref.provider, status, elapsed());
      if (firstTokenMs !== undefined) deps.metrics.recordFirstToken(ref.provider, firstTokenMs / 1000);
      return {
        ...base,
        status: upstream.status,
        success: streamError === null,
        errorMessage: streamError,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        timeToFirstTokenMs: firstTokenMs === undefined ? undefined : Math.round(firstTokenMs),
        responseBody: { text },
        final,
      };
    }
    let text: string;
    try {
      text = await upstream.body.text();
    } catch (error) {
      if (watch.signal.aborted) return gone();
      return fail(networkError(ref.provider, error));
    }
    reply
      .code(upstream.status)
      .headers({ ...retryHeaders(upstream.headers), 'content-type': contentType })
      .send(text);
    const json = parseJson(text);
    const usage = readUsage((json as { usage?: unknown } | undefined)?.usage);
    deps.metrics.recordRequest(ref.provider, upstream.status, elapsed());
    const errorMessage =
      upstream.status >= 400 ? provider.mapError(upstream.status, text, upstream.headers).message : null;
    return {
      ...base,
      streamed: false,
      status: upstream.status,
      success: upstream.status < 400,
      errorMessage,
      promptTokens: usage?.promptTokens,
      completionTokens: usage?.completionTokens,
      responseBody: text,
      final: upstream.status < 400 ? json : undefined,
    };
  } finally {
    watch.dispose();
  }
}
