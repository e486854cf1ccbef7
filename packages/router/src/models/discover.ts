/**
 * `POST /v0/models/discover-gguf`: finds GGUF conversions of a model on the hub. Searches
 * `api/models?library=gguf&search=<last path segment>`, keeps repos with GGUF files, puts the
 * trusted converters first (in the contract's order), and caches each answer for 10 minutes.
 */
import { z } from 'zod';
import { badRequest } from '../http/errors.js';
import type { HubClient } from './hf-client.js';
import { parseRepoInput } from './ids.js';
import { quantLabel } from './quant.js';
import { hubErrorToHttp } from './register.js';

export const TRUSTED_PROVIDERS = ['ggml-org', 'bartowski', 'lmstudio-community', 'unsloth', 'TheBloke'];

export const DiscoverSchema = z.object({ model: z.string().trim().min(1, 'model is required').max(500) });

export interface GgufAlternative {
  repo: string;
  provider: string;
  trusted: boolean;
  files: Array<{ filename: string; size_bytes: number | null; quantization: string | null }>;
}

export interface DiscoverResult {
  base_model: string;
  gguf_alternatives: GgufAlternative[];
  cached: boolean;
}

const CACHE_TTL_MS = 10 * 60 * 1000;
const CACHE_MAX_ENTRIES = 256;

export class GgufDiscovery {
  private readonly cache = new Map<string, { at: number; alternatives: GgufAlternative[] }>();

  constructor(
    private readonly hub: HubClient,
    private readonly now: () => number = Date.now,
  ) {}

  async discover(model: string): Promise<DiscoverResult> {
    const base = baseModelOf(model, this.hub.baseUrl);
    const term = base.slice(base.lastIndexOf('/') + 1);
    const key = term.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < CACHE_TTL_MS) {
      return { base_model: base, gguf_alternatives: hit.alternatives, cached: true };
    }
    const results = await this.hub.searchGguf(term).catch((error) => {
      throw hubErrorToHttp(error, term, this.hub.hasToken);
    });
    const alternatives = results
      .map((result) => {
        const provider = result.repo.includes('/')
          ? result.repo.slice(0, result.repo.indexOf('/'))
          : result.repo;
        const files = result.files
          .filter((f) => f.path.toLowerCase().endsWith('.gguf'))
          .map((f) => ({ filename: f.path, size_bytes: f.size, quantization: quantLabel(f.path) }));
        return {
          repo: result.repo,
          provider,
          trusted: trustRank(provider) < TRUSTED_PROVIDERS.length,
          files,
        };
      })
      .filter((alternative) => alternative.files.length > 0);
    // A stable sort: trusted providers in the contract's order, the rest as the hub ranked them.
    alternatives.sort((a, b) => trustRank(a.provider) - trustRank(b.provider));
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { at: this.now(), alternatives });
    return { base_model: base, gguf_alternatives: alternatives, cached: false };
  }
}

function trustRank(provider: string): number {
  const rank = TRUSTED_PROVIDERS.findIndex((p) => p.toLowerCase() === provider.toLowerCase());
  return rank < 0 ? TRUSTED_PROVIDERS.length : rank;
}

/** `org/name`, a hub URL, or a bare name; the search uses its last path segment. */
function baseModelOf(model: string, hfBaseUrl: string): string {
  try {
    return parseRepoInput(model, hfBaseUrl).repo;
  } catch {
    if (/^[A-Za-z0-9._-]+$/.test(model)) return model;
    throw badRequest(
      `Invalid model '${model}': use 'org/name', a name, or a Hugging Face URL`,
      'model',
      'invalid_model',
    );
  }
}
