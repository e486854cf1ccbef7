/**
 * The provider model lists behind `/v1/models`, cached per provider so a model picker does not
 * call three clouds on every refresh. A provider whose listing fails contributes nothing and is
 * asked again after a short pause rather than after the full cache lifetime.
 */
import type { CloudConfig } from './config.js';
import { parseJson } from './errors.js';
import type { CloudProvider } from './provider.js';
import type { CloudModelEntry, CloudProviderName } from './types.js';
import type { UpstreamClient } from './upstream.js';

const RETRY_FAILED_LISTING_MS = 30_000;

export interface CatalogDeps {
  config: CloudConfig;
  providers: Record<CloudProviderName, CloudProvider>;
  client: UpstreamClient;
  warn?: (message: string) => void;
  now?: () => number;
}

interface CacheEntry {
  expiresAt: number;
  entries: CloudModelEntry[];
}

export class CloudModelCatalog {
  private readonly cache = new Map<CloudProviderName, CacheEntry>();
  private readonly pending = new Map<CloudProviderName, Promise<CloudModelEntry[]>>();
  private readonly now: () => number;

  constructor(private readonly deps: CatalogDeps) {
    this.now = deps.now ?? Date.now;
  }

  async list(): Promise<CloudModelEntry[]> {
    const names = (Object.keys(this.deps.providers) as CloudProviderName[]).filter(
      (name) => this.deps.config.providers[name].apiKey,
    );
    const lists = await Promise.all(names.map((name) => this.listProvider(name)));
    return lists.flat();
  }

  private listProvider(name: CloudProviderName): Promise<CloudModelEntry[]> {
    const cached = this.cache.get(name);
    if (cached && cached.expiresAt > this.now()) return Promise.resolve(cached.entries);
    let pending = this.pending.get(name);
    if (!pending) {
      pending = this.fetch(name).finally(() => this.pending.delete(name));
      this.pending.set(name, pending);
    }
    return pending;
  }

  private async fetch(name: CloudProviderName): Promise<CloudModelEntry[]> {
    const provider = this.deps.providers[name];
    const settings = this.deps.config.providers[name];
    try {
      const response = await this.deps.client.send({
        method: provider.models.call.method,
        url: settings.apiRoot + provider.models.call.path,
        headers: { ...provider.headers(settings.apiKey ?? ''), accept: 'application/json' },
      });
      const text = await response.body.text();
      if (response.status >= 400) throw new Error(`HTTP ${response.status}`);
      const entries = provider.models
        .parse(parseJson(text))
        .map((id) => ({ id: `${name}:${id}`, provider: name }));
      this.cache.set(name, { expiresAt: this.now() + this.deps.config.modelsCacheTtlMs, entries });
      return entries;
    } catch (error) {
      this.deps.warn?.(
        `listing ${name} models failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      const retryIn = Math.min(RETRY_FAILED_LISTING_MS, this.deps.config.modelsCacheTtlMs);
      this.cache.set(name, { expiresAt: this.now() + retryIn, entries: [] });
      return [];
    }
  }
}
