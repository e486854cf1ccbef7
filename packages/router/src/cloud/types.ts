/**
 * The seam between the `/v1` routes and the cloud providers. A model named `openai:…`,
 * `google:…` or `anthropic:…` (alias `ahtnorpic:`) is handed to the cloud module instead of a
 * node. The cloud module owns translation, errors, metrics and streaming for those requests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export type CloudProviderName = 'openai' | 'google' | 'anthropic';
export type InferenceKind = 'chat' | 'completions' | 'embeddings';

export interface CloudModelRef {
  provider: CloudProviderName;
  /** The model name with the prefix stripped. */
  model: string;
}

export interface CloudForwardInput {
  ref: CloudModelRef;
  kind: InferenceKind;
  /** The parsed client body (already validated for its kind). */
  body: Record<string, unknown>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** What the cloud module reports back so the route can record the request. */
export interface CloudForwardResult {
  status: number;
  success: boolean;
  errorMessage?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Streams: time from the call to the first generated content sent to the client. */
  timeToFirstTokenMs?: number;
}

export interface CloudModelEntry {
  id: string;
  provider: CloudProviderName;
}

export interface CloudGateway {
  /** `null` when the model has no cloud prefix (or an empty remainder): a local model. */
  parseModel(model: string): CloudModelRef | null;
  /** Sends the request and writes the whole reply (JSON or SSE) to `reply`. */
  forward(input: CloudForwardInput): Promise<CloudForwardResult>;
  /** Provider models for `/v1/models`, for providers whose key is set (cached). */
  listModels(): Promise<CloudModelEntry[]>;
  keyPresence(): { openai_key_present: boolean; google_key_present: boolean; anthropic_key_present: boolean };
}
