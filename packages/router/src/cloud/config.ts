/**
 * Cloud settings, read once from the environment: each provider's key and base URL under the
 * variables its descriptor names, and the timeouts every cloud call shares.
 */
import { createEnvReader, type Env, parseNumber } from '../config/env.js';
import { CLOUD_PROVIDERS } from './descriptors.js';
import type { CloudProviderName } from './types.js';

export { anthropicApiRoot, googleApiRoot, openAIApiRoot } from './api-roots.js';

export interface ProviderSettings {
  /** `undefined` when the key variable is unset or empty. */
  apiKey: string | undefined;
  /** The versioned API root: `…/v1` (OpenAI, Anthropic) or `…/v1beta` (Google), no trailing slash. */
  apiRoot: string;
}

export interface CloudConfig {
  providers: Record<CloudProviderName, ProviderSettings>;
  connectTimeoutMs: number;
  /** Time allowed until the upstream's response headers (a whole non-streamed answer). */
  responseTimeoutMs: number;
  /** Longest silence allowed between two chunks of an upstream body. */
  idleTimeoutMs: number;
  modelsCacheTtlMs: number;
  /** Anthropic requires `max_tokens`; used when the client sends neither limit. */
  anthropicDefaultMaxTokens: number;
  anthropicVersion: string;
}

export function loadCloudConfig(env: Env): CloudConfig {
  const read = createEnvReader(env);
  const seconds = (name: string, fallback: number) =>
    parseNumber(name, read.string(name), fallback, 0.001) * 1000;
  const providers = Object.fromEntries(
    CLOUD_PROVIDERS.map((provider) => [
      provider.name,
      {
        apiKey: read.string(provider.keyVariable),
        apiRoot: provider.apiRoot(read.string(provider.baseUrlVariable) ?? provider.defaultBaseUrl),
      },
    ]),
  ) as Record<CloudProviderName, ProviderSettings>;
  return {
    providers,
    connectTimeoutMs: seconds('LLM_ROUTER_CLOUD_CONNECT_TIMEOUT', 10),
    responseTimeoutMs: seconds('LLM_ROUTER_CLOUD_TIMEOUT', 300),
    idleTimeoutMs: seconds('LLM_ROUTER_CLOUD_IDLE_TIMEOUT', 120),
    modelsCacheTtlMs: seconds('LLM_ROUTER_CLOUD_MODELS_TTL', 300),
    anthropicDefaultMaxTokens: Math.floor(
      parseNumber('LLM_ROUTER_ANTHROPIC_MAX_TOKENS', read.string('LLM_ROUTER_ANTHROPIC_MAX_TOKENS'), 4096, 1),
    ),
    anthropicVersion: read.string('LLM_ROUTER_ANTHROPIC_VERSION') ?? '2023-06-01',
  };
}
