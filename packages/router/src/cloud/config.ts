/**
 * Cloud settings, read once from the environment. Base URLs are accepted in the form each
 * provider's own SDK writes them and in the bare-root form, and normalised here so that the
 * providers only ever append their endpoint path.
 */
import { createEnvReader, type Env, parseNumber } from '../config/env.js';
import type { CloudProviderName } from './types.js';

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

export const KEY_VARIABLES: Record<CloudProviderName, string> = {
  openai: 'OPENAI_API_KEY',
  google: 'GOOGLE_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

export const DEFAULT_BASE_URLS: Record<CloudProviderName, string> = {
  openai: 'https://api.openai.com/v1',
  google: 'https://generativelanguage.googleapis.com/v1beta',
  anthropic: 'https://api.anthropic.com',
};

/** A path ending in a version segment such as `/v1`, `/v1beta`, `/v2alpha1`. */
const VERSION_SEGMENT = /\/v\d+[a-z0-9]*$/i;

function trimUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * OpenAI: `https://api.openai.com` and `https://api.openai.com/v1` are the same API. A URL that
 * already ends in a version segment (or in `/openai`, Gemini's OpenAI-compatible root) is used
 * as given; otherwise `/v1` is appended.
 */
export function openAIApiRoot(url: string): string {
  const base = trimUrl(url);
  if (VERSION_SEGMENT.test(base) || /\/openai$/i.test(base)) return base;
  return `${base}/v1`;
}

/** Anthropic: the SDK takes the bare root; `…/v1` is accepted too. */
export function anthropicApiRoot(url: string): string {
  const base = trimUrl(url).replace(/\/v1$/i, '');
  return `${base}/v1`;
}

/** Google: the REST docs write `…/v1beta`, the SDK takes the bare root; both are accepted. */
export function googleApiRoot(url: string): string {
  const base = trimUrl(url);
  return VERSION_SEGMENT.test(base) ? base : `${base}/v1beta`;
}

export function loadCloudConfig(env: Env): CloudConfig {
  const read = createEnvReader(env);
  const seconds = (name: string, fallback: number) =>
    parseNumber(name, read.string(name), fallback, 0.001) * 1000;
  const provider = (name: CloudProviderName, baseVariable: string, root: (url: string) => string) => ({
    apiKey: read.string(KEY_VARIABLES[name]),
    apiRoot: root(read.string(baseVariable) ?? DEFAULT_BASE_URLS[name]),
  });
  return {
    providers: {
      openai: provider('openai', 'OPENAI_BASE_URL', openAIApiRoot),
      google: provider('google', 'GOOGLE_API_BASE_URL', googleApiRoot),
      anthropic: provider('anthropic', 'ANTHROPIC_API_BASE_URL', anthropicApiRoot),
    },
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
