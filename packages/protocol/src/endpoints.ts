/**
 * The one vocabulary for inference requests, shared by router and node: what a backend is asked
 * to do (the request kind), the OpenAI path that serves each kind on a node, and the router's
 * `/v1` inference endpoints with the request type history records for each. Nobody keeps a
 * second copy of these tables.
 */

/** What a backend is asked to do. Every inbound format becomes one of these. */
export const INFERENCE_KINDS = ['chat', 'completions', 'embeddings'] as const;
export type InferenceKind = (typeof INFERENCE_KINDS)[number];

/** What a model can do, as nodes declare it (`completion` is the legacy text API). */
export const MODEL_CAPABILITIES = ['chat', 'completion', 'embeddings'] as const;
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];

/** The OpenAI path serving each kind, on a node and on OpenAI-compatible upstreams alike. */
export const INFERENCE_PATHS: Record<InferenceKind, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
};

/**
 * The HTTP trailer a node ends every SSE stream with: the reply's `usage` as JSON (OpenAI's shape,
 * with `prompt_tokens_details.cached_tokens`). It tells the router what the node reused even when
 * the client did not ask for the usage chunk (`stream_options.include_usage`), without adding a
 * byte to the stream itself: SSE clients never see trailers, and the router does not forward them.
 */
export const NODE_USAGE_TRAILER = 'x-llm-node-usage';

/** The request type request history stores (`generate` is the upstream's name for completions). */
export type RequestType = 'chat' | 'generate' | 'embeddings' | 'messages' | 'responses';

/** The inbound wire format of a `/v1` inference endpoint. */
export type InboundFormat = 'openai' | 'anthropic-messages' | 'openai-responses';

export interface InferenceEndpoint {
  path: string;
  kind: InferenceKind;
  format: InboundFormat;
  requestType: RequestType;
}

/** Every `/v1` endpoint that runs inference. */
export const INFERENCE_ENDPOINTS: readonly InferenceEndpoint[] = [
  { path: INFERENCE_PATHS.chat, kind: 'chat', format: 'openai', requestType: 'chat' },
  { path: INFERENCE_PATHS.completions, kind: 'completions', format: 'openai', requestType: 'generate' },
  { path: INFERENCE_PATHS.embeddings, kind: 'embeddings', format: 'openai', requestType: 'embeddings' },
  { path: '/v1/messages', kind: 'chat', format: 'anthropic-messages', requestType: 'messages' },
  { path: '/v1/responses', kind: 'chat', format: 'openai-responses', requestType: 'responses' },
];

/** The endpoint a path belongs to (exact path, no query string), if it runs inference. */
export function inferenceEndpointFor(path: string): InferenceEndpoint | undefined {
  return INFERENCE_ENDPOINTS.find((endpoint) => endpoint.path === path);
}
