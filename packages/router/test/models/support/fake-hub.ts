/**
 * A local fake of the Hugging Face hub, speaking the parts the router uses:
 * - `GET /api/models/{repo}[/revision/{rev}]` with siblings, sizes, git blob ids and LFS sha256;
 * - `GET /api/models?library=gguf&search=…` for discover-gguf;
 * - `GET /{repo}/resolve/{rev}/{file}` with Range, If-Range and ETag; LFS files redirect to a
 *   CDN path on the same server like the real hub does; 401 for gated repos without the right
 *   token, 404 with `X-Error-Code` for unknown repos and files.
 * Tests can stall a file after N bytes (to stop the router mid-download), serve bytes that do
 * not match the published hash, and inject failing statuses.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

export interface FakeFile {
  path: string;
  content: Buffer;
  /** Stored in LFS (sha256 published); defaults to true for .gguf/.safetensors. */
  lfs?: boolean;
  /** Bytes actually served when they should differ from `content` (corruption). */
  served?: Buffer;
  /** Size the API reports, when it should lie. */
  listedSize?: number;
}

export interface FakeRepo {
  id: string;
  files: FakeFile[];
  gated?: boolean;
  private?: boolean;
  sha?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  authorization: string | undefined;
}

const repoRoot = resolve(import.meta.dirname, '../../../../..');
export const STORIES_PATH = resolve(repoRoot, '../shared/models/stories260K.gguf');
export const storiesBytes = () => readFileSync(STORIES_PATH);

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const gitSha1 = (data: Buffer) =>
  createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
const isLfs = (file: FakeFile) => file.lfs ?? /\.(gguf|safetensors)$/i.test(file.path);

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  private readonly repos = new Map<string, FakeRepo>();
  private readonly stalls = new Map<string, { after: number; held: ServerResponse[] }>();
  private readonly failures = new Map<string, number[]>();
  private server!: Server;
  url = '';
  /** The token gated and private repos accept. */
  token = 'hf_test_token';

  static async start(): Promise<FakeHub> {
    const hub = new FakeHub();
    hub.server = createServer((req, res) => {
      hub.handle(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((done) => hub.server.listen(0, '127.0.0.1', done));
    hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
    return hub;
  }

  addRepo(repo: FakeRepo): void {
    this.repos.set(repo.id.toLowerCase(), repo);
  }

  /** Serves only the first `after` bytes of each response for `path`, then holds it open. */
  stall(path: string, after: number): void {
    this.stalls.set(path, { after, held: [] });
  }

  /** Ends the stall: held connections are cut (like a dropped network), later requests flow. */
  unstall(path: string): void {
    const stall = this.stalls.get(path);
    this.stalls.delete(path);
    for (const res of stall?.held ?? []) res.destroy();
  }

  /** The next requests for `path` (a file, or `api` for model info) answer these statuses, in order. */
  failNext(path: string, ...statuses: number[]): void {
    this.failures.set(path, statuses);
  }

  fileRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(`/${path}`) && !r.path.startsWith('/api/'));
  }

  async close(): Promise<void> {
    for (const path of [...this.stalls.keys()]) this.unstall(path);
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    this.requests.push({
      method: req.method ?? 'GET',
      path,
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      authorization: req.headers.authorization,
    });
    if (path === '/api/models') return this.search(url, res);
    const api = /^\/api\/models\/([^/]+(?:\/[^/]+)?)(?:\/revision\/[^/]+)?$/.exec(path);
    if (api) return this.info(api[1], req, res);
    const cdn = /^\/cdn\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (cdn) return this.cdn(decodeURIComponent(cdn[1]), decodeURIComponent(cdn[2]), req, res);
    const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolveMatch) return this.resolveFile(resolveMatch[1], resolveMatch[3], req, res);
    json(res, 404, { error: 'Not Found' });
  }

  private info(repoId: string, req: IncomingMessage, res: ServerResponse) {
    if (this.injectFailure('api', res)) return;
    const repo = this.repos.get(repoId.toLowerCase());
    if (!repo || (repo.private && !this.authorized(req))) {
      // The real hub answers 401 RepoNotFound for unknown and private repos alike without a token.
      return json(
        res,
        repo ? 401 : 404,
        { error: 'Repository not found' },
        { 'x-error-code': 'RepoNotFound' },
      );
    }
    json(res, 200, {
      id: repo.id,
      sha: repo.sha ?? 'a'.repeat(40),
      private: Boolean(repo.private),
      gated: repo.gated ? 'manual' : false,
      siblings: repo.files.map((f) => ({
        rfilename: f.path,
        size: f.listedSize ?? f.content.length,
        blobId: gitSha1(f.content),
        ...(isLfs(f) ? { lfs: { sha256: sha256(f.content), size: f.content.length, pointerSize: 134 } } : {}),
      })),
    });
  }

  private search(url: URL, res: ServerResponse): void {
    const term = (url.searchParams.get('search') ?? '').toLowerCase();
    const results = [...this.repos.values()]
      .filter((r) => r.id.toLowerCase().includes(term))
      .map((r) => ({
        id: r.id,
        siblings: r.files.map((f) => ({ rfilename: f.path, size: f.content.length })),
      }));
    json(res, 200, results);
  }

  private resolveFile(repoId: string, filePath: string, req: IncomingMessage, res: ServerResponse) {
    const repo = this.repos.get(repoId.toLowerCase());
    if (!repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if ((repo.gated || repo.private) && !this.authorized(req)) {
      return json(res, 401, { error: 'Access to this model is restricted' }, { 'x-error-code': 'GatedRepo' });
    }
    const file = repo.files.find((f) => f.path === filePath);
    if (!file) return json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    if (this.injectFailure(filePath, res)) return;
    if (isLfs(file)) {
      // Like the hub: LFS content lives on a CDN; the redirect keeps Range and If-Range.
      res.writeHead(302, {
        location: `/cdn/${encodeURIComponent(repo.id)}/${filePath}`,
        'x-linked-etag': `"${sha256(file.content)}"`,
      });
      res.end();
      return;
    }
    this.sendBytes(file, `"${gitSha1(file.content)}"`, filePath, req, res);
  }

  private cdn(repoId: string, filePath: string, req: IncomingMessage, res: ServerResponse) {
    const file = this.repos.get(repoId.toLowerCase())?.files.find((f) => f.path === filePath);
    if (!file) return json(res, 404, { error: 'Not found' });
    if (this.injectFailure(filePath, res)) return;
    this.sendBytes(file, `"${sha256(file.content)}"`, filePath, req, res);
  }

  private injectFailure(filePath: string, res: ServerResponse): boolean {
    const pending = this.failures.get(filePath);
    const status = pending?.shift();
    if (status === undefined) return false;
    json(res, status, { error: `injected ${status}` });
    return true;
  }

  private sendBytes(
    file: FakeFile,
    etag: string,
    filePath: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const body = file.served ?? file.content;
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
    res.writeHead(status, headers);
    const slice = body.subarray(start, end + 1);
    const stall = this.stalls.get(filePath);
    if (stall && slice.length > stall.after) {
      res.write(slice.subarray(0, stall.after));
      stall.held.push(res);
      return;
    }
    res.end(slice);
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
