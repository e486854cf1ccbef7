/**
 * The Hugging Face hub calls the registry makes: model info with file sizes and LFS hashes,
 * small JSON files, resumable file downloads and the GGUF search. `HF_BASE_URL` points it at
 * a mirror (or the tests' fake hub); `HF_TOKEN` is sent as a Bearer token and never logged.
 */
import { Agent, fetch, type Response } from 'undici';
import { z } from 'zod';
import type { HubFile } from './selection.js';

export type HubErrorKind = 'not_found' | 'access_denied' | 'unavailable' | 'bad_response';

/** A hub failure, classified so routes can answer 404 / 403 / 502 and tasks can decide to retry. */
export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    /** The hub's HTTP status, when there was one. */
    readonly status: number | null = null,
  ) {
    super(message);
  }

  /** Worth another attempt: network trouble, timeouts, 5xx, 408 and 429. */
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

const SiblingSchema = z.object({
  rfilename: z.string(),
  size: z.number().nonnegative().nullish(),
  blobId: z.string().nullish(),
  lfs: z
    .object({ sha256: z.string().nullish(), oid: z.string().nullish(), size: z.number().nullish() })
    .nullish(),
});

const ModelInfoSchema = z.object({
  id: z.string().optional(),
  sha: z.string().nullish(),
  private: z.boolean().nullish(),
  gated: z.union([z.boolean(), z.string()]).nullish(),
  siblings: z.array(SiblingSchema).default([]),
});

export interface HubModelInfo {
  /** The commit the file list belongs to; downloads pin to it. */
  commit: string | null;
  gated: boolean;
  files: HubFile[];
}

export interface HubSearchResult {
  repo: string;
  files: HubFile[];
}

export interface HubClientOptions {
  baseUrl: string;
  token: string | undefined;
  /** Per-call limit for API calls and small files. */
  apiTimeoutMs?: number;
}

const MAX_JSON_BYTES = 32 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

function toHubFile(sibling: z.infer<typeof SiblingSchema>): HubFile {
  const sha = sibling.lfs?.sha256 ?? sibling.lfs?.oid ?? null;
  const size = sibling.size ?? sibling.lfs?.size ?? null;
  return {
    path: sibling.rfilename,
    size: typeof size === 'number' ? size : null,
    sha256: sha && HEX64.test(sha.toLowerCase()) ? sha.toLowerCase() : null,
    gitSha1: !sibling.lfs && sibling.blobId && HEX40.test(sibling.blobId) ? sibling.blobId : null,
  };
}

const encodeRepo = (repo: string) => repo.split('/').map(encodeURIComponent).join('/');
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export class HubClient {
  private readonly agent: Agent;
  private readonly apiTimeoutMs: number;

  constructor(private readonly options: HubClientOptions) {
    // The body timeout is the longest a download may stall before it counts as failed (and is retried).
    this.agent = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
    this.apiTimeoutMs = options.apiTimeoutMs ?? 30_000;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  get hasToken(): boolean {
    return Boolean(this.options.token);
  }

  resolveUrl(repo: string, revision: string, path: string): string {
    return `${this.options.baseUrl}/${encodeRepo(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
  }

  async modelInfo(repo: string, revision: string): Promise<HubModelInfo> {
    const revisionPart = revision === 'main' ? '' : `/revision/${encodeURIComponent(revision)}`;
    const url = `${this.options.baseUrl}/api/models/${encodeRepo(repo)}${revisionPart}?blobs=true`;
    const body = await this.getJson(url, repo, AbortSignal.timeout(this.apiTimeoutMs));
    const parsed = ModelInfoSchema.safeParse(body);
    if (!parsed.success)
      throw new HubError(
        'bad_response',
        `Hugging Face returned an unexpected model description for '${repo}'`,
      );
    return {
      commit: parsed.data.sha ?? null,
      gated: parsed.data.gated !== undefined && parsed.data.gated !== null && parsed.data.gated !== false,
      files: parsed.data.siblings.map(toHubFile),
    };
  }

  /** A small JSON file of the repo (tokenizer_config.json, a safetensors index). */
  async fileJson(repo: string, revision: string, path: string): Promise<unknown> {
    return this.getJson(this.resolveUrl(repo, revision, path), repo, AbortSignal.timeout(this.apiTimeoutMs));
  }

  /** `api/models?library=gguf&search=…` with each repo's files. */
  async searchGguf(term: string): Promise<HubSearchResult[]> {
    const query = new URLSearchParams({ library: 'gguf', search: term, limit: '50', expand: 'siblings' });
    const url = `${this.options.baseUrl}/api/models?${query}`;
    const body = await this.getJson(url, term, AbortSignal.timeout(this.apiTimeoutMs));
    const parsed = z.array(ModelInfoSchema.extend({ id: z.string() })).safeParse(body);
    if (!parsed.success)
      throw new HubError('bad_response', 'Hugging Face returned an unexpected search result');
    return parsed.data.map((m) => ({ repo: m.id, files: m.siblings.map(toHubFile) }));
  }

  /**
   * Starts downloading a file, from `offset` when resuming (`Range`, with `If-Range` so a
   * changed file restarts from zero). The caller checks whether the reply is 206 or 200.
   */
  async openFile(
    repo: string,
    revision: string,
    path: string,
    options: { offset: number; etag: string | null; signal: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeader() };
    if (options.offset > 0) {
      headers.range = `bytes=${options.offset}-`;
      if (options.etag && !options.etag.startsWith('W/')) headers['if-range'] = options.etag;
    }
    const response = await this.send(this.resolveUrl(repo, revision, path), headers, options.signal, repo);
    if (response.ok || response.status === 416) return response;
    await response.body?.cancel().catch(() => {});
    throw describeFailure(response, repo, path);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private authHeader(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }

  private async send(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    what: string,
  ): Promise<Response> {
    try {
      return await fetch(url, { headers, signal, dispatcher: this.agent, redirect: 'follow' });
    } catch (error) {
      if (
        signal.aborted &&
        !(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError')
      ) {
        throw signal.reason ?? error;
      }
      const reason =
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error);
      throw new HubError('unavailable', `Hugging Face could not be reached for '${what}': ${reason}`);
    }
  }

  private async getJson(url: string, what: string, signal: AbortSignal): Promise<unknown> {
    const response = await this.send(url, { accept: 'application/json', ...this.authHeader() }, signal, what);
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw describeFailure(response, what, null);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_JSON_BYTES) {
      await response.body?.cancel().catch(() => {});
      throw new HubError(
        'bad_response',
        `Hugging Face sent ${length} bytes of JSON for '${what}'; too large`,
      );
    }
    try {
      const text = await response.text();
      if (text.length > MAX_JSON_BYTES) throw new Error('too large');
      return JSON.parse(text);
    } catch {
      if (signal.aborted) throw new HubError('unavailable', `Hugging Face timed out for '${what}'`);
      throw new HubError('bad_response', `Hugging Face sent invalid JSON for '${what}'`);
    }
  }
}

function describeFailure(response: Response, repo: string, path: string | null): HubError {
  const status = response.status;
  const errorCode = response.headers.get('x-error-code') ?? '';
  const target = path ? `'${path}' in '${repo}'` : `'${repo}'`;
  if (status === 404 || errorCode === 'RepoNotFound' || errorCode === 'EntryNotFound') {
    return new HubError('not_found', `Hugging Face has no ${target}`, status);
  }
  if (status === 401 || status === 403 || errorCode === 'GatedRepo') {
    return new HubError('access_denied', `Hugging Face denied access to ${target} (HTTP ${status})`, status);
  }
  if (status >= 500 || status === 408 || status === 429) {
    return new HubError('unavailable', `Hugging Face answered HTTP ${status} for ${target}`, status);
  }
  return new HubError('bad_response', `Hugging Face answered HTTP ${status} for ${target}`, status);
}
