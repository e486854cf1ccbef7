/**
 * The driver behind `CloudGateway.forward`: checks the key, lets the provider translate, calls
 * the upstream with timeouts and the client's abort signal, writes the reply (JSON or SSE),
 * records metrics, and reports what happened for request history. Providers stay pure mapping.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import { chatToTextCompletion, completionToChatBody } from './completions.js';
import { type CloudConfig, KEY_VARIABLES } from './config.js';
import { CloudError, networkError, parseJson, retryHeaders } from './errors.js';
import { CLIENT_CLOSED_STATUS, type CloudMetrics } from './metrics.js';
import { nowSeconds, type ResponseContext, type Usage } from './openai-shapes.js';
import type { CloudProvider, UpstreamCall } from './provider.js';
import { relayStream, SSE_HEADERS } from './stream-reply.js';
import type { CloudForwardInput, CloudForwardResult, CloudProviderName } from './types.js';
import { headerValue, type UpstreamClient, type UpstreamResponse } from './upstream.js';

export interface ForwardDeps {
  config: CloudConfig;
  providers: Record<CloudProviderName, CloudProvider>;
  client: UpstreamClient;
  metrics: CloudMetrics;
}

function usageResult(
  usage: Usage | undefined,
): Pick<CloudForwardResult, 'promptTokens' | 'completionTokens'> {
  return usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : {};
}

function readUsage(json: unknown): Usage | undefined {
  const usage = (json as { usage?: unknown } | undefined)?.usage;
  return typeof usage === 'object' && usage !== null && 'prompt_tokens' in usage
    ? (usage as Usage)
    : undefined;
}

function sendError(reply: FastifyReply, error: CloudError): void {
  reply.code(error.status).headers(error.headers).send(error.toBody());
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
  const { kind, ref, body, request } = input;
  if (kind === 'embeddings') {
    if (!provider.embeddings) throw noEmbeddings(provider);
    return provider.embeddings.translateRequest({ model: ref.model, body, rawBody: request.rawBody });
  }
  if (kind === 'completions' && !provider.passthrough) {
    // Chat-only providers: the prompt goes as a one-message chat, the answer comes back as text.
    const chatBody = completionToChatBody(body);
    return provider.translateRequest({ kind: 'chat', model: ref.model, body: chatBody, rawBody: undefined });
  }
  return provider.translateRequest({ kind, model: ref.model, body, rawBody: request.rawBody });
}

export async function forwardToCloud(
  deps: ForwardDeps,
  input: CloudForwardInput,
): Promise<CloudForwardResult> {
  const startedAt = performance.now();
  const elapsed = () => (performance.now() - startedAt) / 1000;
  const { ref, kind, body, reply } = input;
  const provider = deps.providers[ref.provider];
  const settings = deps.config.providers[ref.provider];
  const context: ResponseContext = { publicModel: `${ref.provider}:${ref.model}`, created: nowSeconds() };
  const res = reply.raw;

  const refuse = (error: CloudError): CloudForwardResult => {
    sendError(reply, error);
    deps.metrics.recordRequest(ref.provider, error.status);
    return { status: error.status, success: false, errorMessage: error.message };
  };
  const finish = (status: number, usage: Usage | undefined, error?: CloudError): CloudForwardResult => {
    deps.metrics.recordRequest(ref.provider, status, elapsed());
    return {
      status,
      success: !error && status < 400,
      ...(error ? { errorMessage: error.message } : {}),
      ...usageResult(usage),
    };
  };
  const clientGone = (): CloudForwardResult => {
    if (!reply.sent) {
      reply.hijack();
      res.destroy();
    }
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
      const variable = KEY_VARIABLES[ref.provider];
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
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) abort.abort();
  };
  res.on('close', onClose);
  try {
    let upstream: UpstreamResponse;
    try {
      upstream = await deps.client.send({
        method: call.method,
        url: settings.apiRoot + call.path,
        headers: {
          ...provider.headers(settings.apiKey),
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
          accept: body.stream === true ? 'text/event-stream' : 'application/json',
        },
        body: call.body,
        signal: abort.signal,
      });
    } catch (error) {
      if (abort.signal.aborted) return clientGone();
      const mapped = networkError(ref.provider, error);
      sendError(reply, mapped);
      return finish(mapped.status, undefined, mapped);
    }

    const contentType = headerValue(upstream.headers, 'content-type') ?? '';
    const streaming = body.stream === true && kind !== 'embeddings' && upstream.status < 400;
    if (streaming && (!provider.passthrough || contentType.includes('text/event-stream'))) {
      reply.hijack();
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) res.setHeader(name, value);
      }
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      let firstTokenMs: number | undefined;
      const outcome = await relayStream({
        source: upstream.body,
        translator: provider.translateStream(context),
        res,
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
      const result = outcome.ok
        ? finish(200, outcome.usage)
        : finish(outcome.error.status, outcome.usage, outcome.error);
      return firstTokenMs === undefined
        ? result
        : { ...result, timeToFirstTokenMs: Math.round(firstTokenMs) };
    }

    let text: string;
    try {
      text = await upstream.body.text();
    } catch (error) {
      if (abort.signal.aborted) return clientGone();
      const mapped = networkError(ref.provider, error);
      sendError(reply, mapped);
      return finish(mapped.status, undefined, mapped);
    }
    if (provider.passthrough) {
      // OpenAI-compatible: status, body and content type go to the client untouched.
      reply
        .code(upstream.status)
        .headers(retryHeaders(upstream.headers))
        .type(contentType || 'application/json')
        .send(text);
      const error =
        upstream.status >= 400 ? provider.mapError(upstream.status, text, upstream.headers) : undefined;
      return finish(upstream.status, readUsage(parseJson(text)), error);
    }
    if (upstream.status >= 400) {
      const error = provider.mapError(upstream.status, text, upstream.headers);
      sendError(reply, error);
      return finish(error.status, undefined, error);
    }
    try {
      const json = parseJson(text);
      if (json === undefined)
        throw new CloudError(502, `${ref.provider}: the reply is not JSON`, 'upstream_invalid_response');
      const reply200 = translateBody(provider, kind, json, context, body);
      reply.code(200).send(reply200);
      return finish(200, readUsage(reply200));
    } catch (error) {
      if (!(error instanceof CloudError)) throw error;
      sendError(reply, error);
      return finish(error.status, undefined, error);
    }
  } finally {
    res.off('close', onClose);
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
