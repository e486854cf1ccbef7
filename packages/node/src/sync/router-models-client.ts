/**
 * The node's read-only calls to the router's model registry: the feed, manifests, and the
 * request (URL and headers) for one file. The API key only ever goes to the router's own
 * origin; a manifest file URL on another host is fetched without credentials.
 */
import { describeRouterError } from '../agent/router-client.js';
import {
  blobManifest,
  type Feed,
  type Manifest,
  parseFeed,
  parseManifest,
  type RemoteModel,
} from './feed.js';

const CALL_TIMEOUT_MS = 15_000;

export class RouterHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FeedReply extends Feed {
  /** `x-models-version`: the version this listing reflects, when the router says. */
  version: number | null;
}

export interface FileRequest {
  url: string;
  headers: Record<string, string>;
}

export class RouterModelsClient {
  private readonly origin: string;

  constructor(
    readonly routerUrl: string,
    private readonly apiKey: string,
  ) {
    this.origin = new URL(routerUrl).origin;
  }

  /** `GET /v0/models`. Null when the router has no model registry (404: an older router). */
  async listModels(signal: AbortSignal): Promise<FeedReply | null> {
    const response = await this.get('/v0/models', signal);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    const body = await this.json(response, 'the model feed');
    const version = Number(response.headers.get('x-models-version'));
    return { ...parseFeed(body), version: Number.isInteger(version) ? version : null };
  }

  /** The model's manifest; a router without one (404) but with a blob URL gets a one-file manifest. */
  async manifest(model: RemoteModel, signal: AbortSignal): Promise<Manifest> {
    const response = await this.get(
      `/v0/models/registry/${encodeURIComponent(model.id)}/manifest.json`,
      signal,
    );
    if (response.status === 404) {
      const fallback = blobManifest(model, this.routerUrl);
      if (fallback) {
        await response.body?.cancel();
        return fallback;
      }
    }
    return parseManifest(await this.json(response, `the manifest of ${model.id}`), this.routerUrl);
  }

  fileRequest(modelId: string, url: string | null, name: string): FileRequest {
    const target =
      url ??
      `${this.routerUrl}/v0/models/registry/${encodeURIComponent(modelId)}/files/${encodeURIComponent(name)}`;
    const sameOrigin = new URL(target).origin === this.origin;
    return { url: target, headers: sameOrigin ? { authorization: `Bearer ${this.apiKey}` } : {} };
  }

  private get(path: string, signal: AbortSignal): Promise<Response> {
    return fetch(`${this.routerUrl}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
    });
  }

  private async json(response: Response, what: string): Promise<unknown> {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Plain-text errors stay text; a 200 that is not JSON is caught below.
    }
    if (!response.ok) {
      const { message } = describeRouterError(body);
      throw new RouterHttpError(
        response.status,
        `the router refused ${what}: HTTP ${response.status}${message ? ` ${message.slice(0, 200)}` : ''}`,
      );
    }
    if (typeof body === 'string') throw new RouterHttpError(response.status, `${what} is not JSON`);
    return body;
  }
}
