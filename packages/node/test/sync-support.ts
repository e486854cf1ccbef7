/**
 * Test doubles for model sync: a tiny router model registry on 127.0.0.1 (feed, manifests,
 * files with Range) that records requests and can cut, hold or corrupt file responses, plus
 * helpers to build a `ModelSync` against a temp models dir.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { DownloadConfig } from '../src/config/config.js';
import type { Clock } from '../src/sync/limits.js';
import { ModelSync, type SyncTarget } from '../src/sync/model-sync.js';
import { RouterModelsClient } from '../src/sync/router-models-client.js';

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
export const silentLog = pino({ level: 'silent' });

/** Deterministic bytes that differ per label. */
export function bytesOf(label: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = sha256(Buffer.from(label));
  for (let at = 0; at < size; at += 32) {
    const block = Buffer.from(seed, 'hex');
    block.copy(out, at, 0, Math.min(32, size - at));
    seed = sha256(block);
  }
  return out;
}

export interface Recorded {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

interface FakeModel {
  row: Record<string, unknown>;
  files: Map<string, Buffer>;
  manifest: unknown;
}

export class FakeRegistry {
  readonly requests: Recorded[] = [];
  readonly models = new Map<string, FakeModel>();
  version = 1;
  /** Replaces the whole feed body (bad input tests). */
  feedOverride: unknown;
  /** Per file (`<id>/<name>`): bytes served instead of the real ones (corruption). */
  readonly served = new Map<string, Buffer>();
  /** Per file: cut the connection after this many bytes, for the next N responses. */
  readonly cuts = new Map<string, { after: number; times: number }>();
  /** While set, file responses wait here until `release()`. */
  holdFiles = false;
  readonly held: (() => void)[] = [];
  active = 0;
  maxActive = 0;
  private server!: Server;
  url = '';

  static async start(port = 0): Promise<FakeRegistry> {
    const registry = new FakeRegistry();
    await registry.listen(port);
    return registry;
  }

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((done) => this.server.listen(port, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const release of this.held.splice(0)) release();
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  /** A registered, servable GGUF model with a manifest built from its files. */
  addModel(id: string, files: Record<string, Buffer>, row: Record<string, unknown> = {}): void {
    const map = new Map(Object.entries(files));
    this.models.set(id, {
      row: {
        name: id,
        format: 'gguf',
        servable: true,
        lifecycle_status: 'registered',
        path: null,
        ...row,
      },
      files: map,
      manifest: {
        model: id,
        files: [...map].map(([name, data]) => ({
          name,
          size: data.length,
          sha256: sha256(data),
          digest: `sha256:${sha256(data)}`,
          url: `/v0/models/registry/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`,
        })),
      },
    });
    this.version++;
  }

  setManifest(id: string, manifest: unknown): void {
    const model = this.models.get(id);
    if (model) model.manifest = manifest;
  }

  removeModel(id: string): void {
    this.models.delete(id);
    this.version++;
  }

  fileRequests(name: string): Recorded[] {
    return this.requests.filter((r) => r.path.includes('/files/') && r.path.endsWith(`/${name}`));
  }

  feedRequests(): number {
    return this.requests.filter((r) => r.path === '/v0/models').length;
  }

  release(): void {
    this.held.shift()?.();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push({ path, range: req.headers.range, authorization: req.headers.authorization });
    if (path === '/v0/models') {
      const body = this.feedOverride ?? [...this.models.values()].map((m) => m.row);
      res.writeHead(200, { 'content-type': 'application/json', 'x-models-version': String(this.version) });
      res.end(JSON.stringify(body));
      return;
    }
    const match = /^\/v0\/models\/registry\/([^/]+)\/(manifest\.json|files\/([^/]+))$/.exec(path);
    const model = match ? this.models.get(decodeURIComponent(match[1])) : undefined;
    const data = model && match?.[3] ? model.files.get(decodeURIComponent(match[3])) : undefined;
    if (model && match?.[2] === 'manifest.json') {
      json(res, 200, model.manifest);
    } else if (!model || !match?.[3] || !data) {
      json(res, 404, { error: { message: 'not found', code: 'not_found' } });
    } else {
      this.serveFile(`${model.row.name}/${decodeURIComponent(match[3])}`, data, req, res);
    }
  }

  private serveFile(key: string, data: Buffer, req: IncomingMessage, res: ServerResponse): void {
    const send = () => this.sendFile(this.served.get(key) ?? data, key, req, res);
    if (!this.holdFiles) {
      send();
      return;
    }
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.held.push(() => {
      this.active--;
      send();
    });
  }

  private sendFile(data: Buffer, key: string, req: IncomingMessage, res: ServerResponse): void {
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        res.end();
        return;
      }
    }
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(data.length - start),
      'accept-ranges': 'bytes',
    };
    if (range) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const cut = this.cuts.get(key);
    if (cut && cut.times > 0 && data.length - start > cut.after) {
      cut.times--;
      // Flush some bytes, then drop the connection like a broken network would.
      res.write(data.subarray(start, start + cut.after), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(data.subarray(start));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Records what model sync asks of the model manager. */
export class RecordingTarget implements SyncTarget {
  external = new Map<string, string>();
  rescans = 0;
  setExternalModels(models: ReadonlyMap<string, string>): void {
    this.external = new Map(models);
  }
  async rescan(): Promise<void> {
    this.rescans++;
  }
}

export const testDownloadConfig = (overrides: Partial<DownloadConfig> = {}): DownloadConfig => ({
  concurrency: 4,
  maxRetries: 2,
  backoffMs: 5,
  chunkBytes: 64 * 1024,
  maxBytesPerSec: 0,
  stallTimeoutMs: 5000,
  useSharedPath: true,
  ...overrides,
});

export function createSync(
  registry: FakeRegistry | string,
  modelsDir: string,
  overrides: Partial<DownloadConfig> = {},
  clock?: Clock,
): { sync: ModelSync; target: RecordingTarget } {
  const target = new RecordingTarget();
  const url = typeof registry === 'string' ? registry : registry.url;
  const sync = new ModelSync({
    modelsDir,
    client: new RouterModelsClient(url, 'sk_node_test'),
    target,
    settings: testDownloadConfig(overrides),
    retryInitialMs: 20,
    retryMaxMs: 200,
    log: silentLog,
    clock,
  });
  return { sync, target };
}

/** A simulated clock: sleeping advances it at once (for bandwidth accounting by bytes). */
export class FakeClock implements Clock {
  time = 0;
  slept = 0;
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
    this.slept += ms;
  }
}
