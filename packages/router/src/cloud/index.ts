/**
 * Entry point of the cloud module: `createCloudGateway(env)` builds the `CloudGateway` the `/v1`
 * routes use, from the environment variables documented in docs/cloud.md.
 */
import type { Env } from '../config/env.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { type CloudConfig, loadCloudConfig } from './config.js';
import { CLOUD_PROVIDERS, type KeyPresence } from './descriptors.js';
import { forwardToCloud } from './forward.js';
import { googleProvider } from './google/index.js';
import { CloudMetrics } from './metrics.js';
import { CloudModelCatalog } from './models.js';
import { forwardNative } from './native.js';
import { openAIProvider } from './openai/index.js';
import type { CloudProvider } from './provider.js';
import type { CloudGateway, CloudModelRef, CloudProviderName } from './types.js';
import { UpstreamClient } from './upstream.js';

export { CLOUD_PROVIDERS, descriptorOf, type ProviderDescriptor } from './descriptors.js';
export { CloudMetrics } from './metrics.js';
export type { CloudProvider } from './provider.js';
export type * from './types.js';

/** The gateway plus what the server wires around it (the metrics route, shutdown). */
export interface CloudGatewayService extends CloudGateway {
  readonly metrics: CloudMetrics;
  readonly config: CloudConfig;
  /** Closes the pooled upstream connections. */
  close(): Promise<void>;
}

export interface CloudGatewayOptions {
  /** Where failures of the background model listing are reported. */
  warn?: (message: string) => void;
}

const PREFIXES = new Map<string, CloudProviderName>(
  CLOUD_PROVIDERS.flatMap((provider) => provider.prefixes.map((prefix) => [prefix, provider.name] as const)),
);

/** `openai:gpt-4o` → `{provider:'openai', model:'gpt-4o'}`; no prefix or an empty remainder → local. */
export function parseCloudModel(model: string): CloudModelRef | null {
  const colon = model.indexOf(':');
  if (colon <= 0) return null;
  const provider = PREFIXES.get(model.slice(0, colon));
  const rest = model.slice(colon + 1);
  if (!provider || rest.trim() === '') return null;
  return { provider, model: rest };
}

export function createCloudGateway(env: Env, options: CloudGatewayOptions = {}): CloudGatewayService {
  const config = loadCloudConfig(env);
  const providers: Record<CloudProviderName, CloudProvider> = {
    openai: openAIProvider,
    google: googleProvider,
    anthropic: createAnthropicProvider({
      version: config.anthropicVersion,
      defaultMaxTokens: config.anthropicDefaultMaxTokens,
    }),
  };
  const client = new UpstreamClient(config);
  const metrics = new CloudMetrics();
  const catalog = new CloudModelCatalog({ config, providers, client, warn: options.warn });
  return {
    metrics,
    config,
    parseModel: parseCloudModel,
    forward: (input) => {
      const ref = parseCloudModel(input.model);
      if (!ref) throw new Error(`not a cloud model: ${input.model}`);
      return forwardToCloud({ config, providers, client, metrics }, { ...input, ref });
    },
    forwardNative: (input) => forwardNative({ config, providers, client, metrics }, input),
    listModels: () => catalog.list(),
    keyPresence: () =>
      Object.fromEntries(
        CLOUD_PROVIDERS.map((p) => [`${p.name}_key_present`, config.providers[p.name].apiKey !== undefined]),
      ) as KeyPresence,
    close: () => client.close(),
  };
}
