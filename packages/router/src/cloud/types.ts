/**
 * The seam between the `/v1` routes and the cloud providers. A model named `openai:…`,
 * `google:…` or `anthropic:…` (alias `ahtnorpic:`) is handed to the cloud gateway, a `Backend`
 * like the node fleet. The cloud module owns translation, errors, metrics and streaming for
 * those requests.
 */
import type { Backend } from '../backends.js';
import type { KeyPresence } from './descriptors.js';
import type { NativeForwardInput, NativeForwardResult } from './native.js';

export type { InferenceKind } from '@llm-router/protocol';
export type { BackendRequest as CloudForwardInput } from '../backends.js';
export type { InferenceResult as CloudForwardResult } from '../history/types.js';
export type { KeyPresence } from './descriptors.js';
export type { NativeForwardInput, NativeForwardResult } from './native.js';

export type CloudProviderName = 'openai' | 'google' | 'anthropic';

export interface CloudModelRef {
  provider: CloudProviderName;
  /** The model name with the prefix stripped. */
  model: string;
}

export interface CloudModelEntry {
  id: string;
  provider: CloudProviderName;
}

export interface CloudGateway extends Backend {
  /** `null` when the model has no cloud prefix (or an empty remainder): a local model. */
  parseModel(model: string): CloudModelRef | null;
  /** Provider models for `/v1/models`, for providers whose key is set (cached). */
  listModels(): Promise<CloudModelEntry[]>;
  keyPresence(): KeyPresence;
  /** Sends a request in the provider's own format as is (Messages to Anthropic, Responses to OpenAI). */
  forwardNative(input: NativeForwardInput): Promise<NativeForwardResult>;
}
