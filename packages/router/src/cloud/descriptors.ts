/**
 * Each cloud provider described once: its name, the model prefixes that select it, the
 * environment variables for its key and base URL, and what its models can do. Config loading,
 * model-prefix parsing, key presence and the `/v1/models` capabilities all derive from this list.
 */
import { anthropicApiRoot, googleApiRoot, openAIApiRoot } from './api-roots.js';
import type { CloudProviderName } from './types.js';

export interface ProviderCapabilities {
  chat_completion: boolean;
  completion: boolean;
  embeddings: boolean;
}

export interface ProviderDescriptor {
  name: CloudProviderName;
  /** `prefix:model` selects this provider. */
  prefixes: readonly string[];
  keyVariable: string;
  baseUrlVariable: string;
  defaultBaseUrl: string;
  /** Normalises a configured base URL to the versioned API root. */
  apiRoot(url: string): string;
  capabilities: ProviderCapabilities;
}

export const CLOUD_PROVIDERS: readonly ProviderDescriptor[] = [
  {
    name: 'openai',
    prefixes: ['openai'],
    keyVariable: 'OPENAI_API_KEY',
    baseUrlVariable: 'OPENAI_BASE_URL',
    defaultBaseUrl: 'https://api.openai.com/v1',
    apiRoot: openAIApiRoot,
    capabilities: { chat_completion: true, completion: true, embeddings: true },
  },
  {
    name: 'google',
    prefixes: ['google'],
    keyVariable: 'GOOGLE_API_KEY',
    baseUrlVariable: 'GOOGLE_API_BASE_URL',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    apiRoot: googleApiRoot,
    // Legacy completions are served as one-message chats.
    capabilities: { chat_completion: true, completion: false, embeddings: true },
  },
  {
    name: 'anthropic',
    // `ahtnorpic` is a typo the upstream project accepted; kept so existing clients keep working.
    prefixes: ['anthropic', 'ahtnorpic'],
    keyVariable: 'ANTHROPIC_API_KEY',
    baseUrlVariable: 'ANTHROPIC_API_BASE_URL',
    defaultBaseUrl: 'https://api.anthropic.com',
    apiRoot: anthropicApiRoot,
    capabilities: { chat_completion: true, completion: false, embeddings: false },
  },
];

export const descriptorOf = (name: CloudProviderName): ProviderDescriptor =>
  CLOUD_PROVIDERS.find((provider) => provider.name === name)!;

/** `{openai_key_present, google_key_present, anthropic_key_present}` for the dashboard. */
export type KeyPresence = Record<`${CloudProviderName}_key_present`, boolean>;
