/**
 * The driver behind `CloudGateway.forward`: checks the key, lets the provider translate, calls
 * the upstream with timeouts and the client's abort signal, writes the reply (JSON or SSE),
 * records metrics, and reports what happened for request history. Providers stay pure mapping.
 */
import { performance } from 'node:perf_hooks';
import type { BackendRequest } from '../backends.js';
import type { InferenceResult } from '../history/types.js';
import { beginAttemptSpan, outgoingTraceHeaders } from '../observability/trace-context.js';
import { NativeChannel, type ReplyChannel } from '../transport/channel.js';
import { abandonReply, CLIENT_CLOSED_STATUS, watchClient } from '../transport/client.js';
import { readUsage, type TokenUsage } from '../transport/usage.js';
import { chatToTextCompletion, completionToChatBody } from './completions.js';
import type { CloudConfig } from './config.js';
import { descriptorOf } from './descriptors.js';
import { CloudError, networkError, parseJson, retryHeaders } from './errors.js';
import type { CloudMetrics } from './metrics.js';
import { nowSeconds, type ResponseContext } from './openai-shapes.js';
import type { CloudProvider, UpstreamCall } from './provider.js';
import { relayStream } from './stream-reply.js';
import type { CloudModelRef, CloudProviderName } from './types.js';
import { headerValue, type UpstreamClient, type UpstreamResponse } from './upstream.js';

export interface ForwardDeps {
  config: CloudConfig;
  providers: Record<CloudProviderName, CloudProvider>;
  client: UpstreamClient;
  metrics: CloudMetrics;
}

export type CloudForwardInput = BackendRequest & { ref: CloudModelRef };

const usageOf = (json: unknown): TokenUsage | null =>
  readUsage((json as { usage?: unknown } | undefined)?.usage);

function sendError(channel: ReplyChannel, error: CloudError): void {
  channel.sendJson(error.status, error.toBody(), error.headers);
}

/** Anthropic has no embeddings API: a client error no key could fix, so it is answered first. */
function noEmbeddings(provider: CloudProvider): CloudError {
  return new CloudError(
    400,
    `${provider.name}: models have no embeddings endpoint; use an openai:, google: or local embedding model`,
    'unsupported_endpoint',
    'model',
  );
}

/** Builds the upstream call; throws `CloudError` (400) for requests the provider cannot express. */
function buildCall(provider: CloudProvider, input: CloudForwardInput): UpstreamCall {
  const { kind, ref, body, rawBody } = input;
  if (kind === 'embeddings') {
    if (!provider.embeddings) throw noEmbeddings(provider);
    return provider.embeddings.translateRequest({ model: ref.model, body, rawBody });
  }
  if (kind === 'completions' && !provider.passthrough) {
    // Chat-only providers: the prompt goes as a one-message chat, the answer comes back as text.
    const chatBody = completionToChatBody(body);
    return provider.translateRequest({ kind: 'chat', model: ref.model, body: chatBody, rawBody: undefined });
  }
  return provider.translateRequest({ kind, model: ref.model, body, rawBody });
}

export async function forwardToCloud(deps: ForwardDeps, input: CloudForwardInput): Promise<InferenceResult> {
  const startedAt = performance.now();
  const elapsed = () => (performance.now() - startedAt) / 1000;
  const { ref, kind, body, reply } = input;
  const channel = input.channel ?? new NativeChannel(reply);
  const provider = deps.providers[ref.provider];
  const settings = deps.config.providers[ref.provider];
  const context: ResponseContext = { publicModel: `${ref.provider}:${ref.model}`, created: nowSeconds() };
  const streamRequested = kind !== 'embeddings' && body.stream === true;
  const result = (
    status: number,
    usage: TokenUsage | null | undefined,
    error: CloudError | undefined,
    streamed = streamRequested,
  ): InferenceResult => ({
    nodeId: null,
    cloudProvider: ref.provider,
    status,
    success: !error && status < 400,
    errorMessage: error ? error.message : null,
    streamed,
    promptTokens: usage?.promptTokens,
    completionTokens: usage?.completionTokens,
    failedAttempts: [],
  });

  const refuse = (error: CloudError): InferenceResult => {
    sendError(channel, error);
    deps.metrics.recordRequest(ref.provider, error.status);
    return result(error.status, undefined, error);
  };
  const finish = (
    status: number,
    usage: TokenUsage | null | undefined,
    error?: CloudError,
  ): InferenceResult => {
    deps.metrics.recordRequest(ref.provider, status, elapsed());
    return result(status, usage, error);
  };
  const clientGone = (): InferenceResult => {
    if (!reply.sent) abandonReply(reply);
    reply.raw.destroy();
    return finish(
      CLIENT_CLOSED_STATUS,
      undefined,
      new CloudError(CLIENT_CLOSED_STATUS, 'client closed the connection'),
    );
  };

  // Refusals happen before anything is sent upstream.
  if (kind === 'embeddings' && !provider.embeddings) return refuse(noEmbeddings(provider));
  let call: UpstreamCall;
  try {
    if (!settings.apiKey) {
      const variable = descriptorOf(ref.provider).keyVariable;
      return refuse(
        new CloudError(401, `${variable} is required for ${ref.provider}: models`, 'missing_provider_key'),
      );
    }
    call = buildCall(provider, input);
  } catch (error) {
    if (error instanceof CloudError) return refuse(error);
    throw error;
  }

  // A client that goes away stops the upstream request (and with it, the provider's billing).
  const abort = watchClient(reply);
  try {
    let upstream: UpstreamResponse;
    const timing = reply.request.timing;
    const sentAt = performance.now();
    // Null unless spans are exported; the request's end closes it (one call per request).
    const span = beginAttemptSpan(reply.request.trace, { cloudProvider: ref.provider });
    try {
      upstream = await deps.client.send({
        method: call.method,
        url: settings.apiRoot + call.path,
        headers: {
          ...provider.headers(settings.apiKey),
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
          accept: body.stream === true ? 'text/event-stream' : 'application/json',
          // The client's trace continues at the provider (W3C Trace Context).
          ...outgoingTraceHeaders(reply.request.trace, span),
        },
        body: call.body,
        signal: abort.signal,
      });
      if (timing) timing.connectMs = performance.now() - sentAt;
    } catch (error) {
      if (abort.signal.aborted) return clientGone();
      const mapped = networkError(ref.provider, error);
      sendError(channel, mapped);
      return finish(mapped.status, undefined, mapped);
    }

    const contentType = headerValue(upstream.headers, 'content-type') ?? '';
    const streaming = body.stream === true && kind !== 'embeddings' && upstream.status < 400;
    if (streaming && (!provider.passthrough || contentType.includes('text/event-stream'))) {
      channel.openStream(200);
      reply.raw.flushHeaders();
      let firstTokenMs: number | undefined;
      const outcome = await relayStream({
        source: upstream.body,
        translator: provider.translateStream(context),
        channel,
        kind: kind === 'completions' ? 'completions' : 'chat',
        appendUsage: !provider.passthrough && isIncludeUsage(body),
        publicModel: context.publicModel,
        created: context.created,
        onFirstToken: () => {
          firstTokenMs = elapsed() * 1000;
          deps.metrics.recordFirstToken(ref.provider, elapsed());
        },
        classify: (error) => networkError(ref.provider, error),
      });
      if (outcome === 'client_gone') return clientGone();
      const usage = readUsage(outcome.usage);
      const streamed = outcome.ok ? finish(200, usage) : finish(outcome.error.status, usage, outcome.error);
      return firstTokenMs === undefined
        ? streamed
        : { ...streamed, timeToFirstTokenMs: Math.round(firstTokenMs) };
    }

    let text: string;
    try {
      text = await upstream.body.text();
    } catch (error) {
      if (abort.signal.aborted) return clientGone();
      const mapped = networkError(ref.provider, error);
      sendError(channel, mapped);
      return finish(mapped.status, undefined, mapped);
    }
    if (provider.passthrough) {
      // OpenAI-compatible: status, body and content type go to the client untouched.
      channel.sendJson(upstream.status, text, {
        ...retryHeaders(upstream.headers),
        'content-type': contentType || 'application/json',
      });
      const error =
        upstream.status >= 400 ? provider.mapError(upstream.status, text, upstream.headers) : undefined;
      return finish(upstream.status, usageOf(parseJson(text)), error);
    }
    if (upstream.status >= 400) {
      const error = provider.mapError(upstream.status, text, upstream.headers);
      sendError(channel, error);
      return finish(error.status, undefined, error);
    }
    try {
      const json = parseJson(text);
      if (json === undefined)
        throw new CloudError(502, `${ref.provider}: the reply is not JSON`, 'upstream_invalid_response');
      const reply200 = translateBody(provider, kind, json, context, body);
      channel.sendJson(200, reply200 as object);
      return finish(200, usageOf(reply200));
    } catch (error) {
      if (!(error instanceof CloudError)) throw error;
      sendError(channel, error);
      return finish(error.status, undefined, error);
    }
  } finally {
    abort.dispose();
  }
}

function isIncludeUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options;
  return (
    typeof options === 'object' &&
    options !== null &&
    (options as { include_usage?: unknown }).include_usage === true
  );
}

function translateBody(
  provider: CloudProvider,
  kind: CloudForwardInput['kind'],
  json: unknown,
  context: ResponseContext,
  body: Record<string, unknown>,
): unknown {
  if (kind === 'embeddings') {
    const encodingFormat = body.encoding_format === 'base64' ? 'base64' : 'float';
    return provider.embeddings!.translateResponse(json, { ...context, encodingFormat });
  }
  const chat = provider.translateResponse(json, context);
  return kind === 'completions' ? chatToTextCompletion(chat) : chat;
}
