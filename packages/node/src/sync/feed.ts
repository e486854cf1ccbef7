/**
 * What the router tells a node about its models: the feed (`GET /v0/models`) and one model's
 * manifest (`GET /v0/models/registry/<id>/manifest.json`). Both are validated with zod and
 * normalised; a malformed entry is skipped (with a reason) rather than failing the whole
 * sync, and a malformed feed as a whole fails the sync without deleting anything.
 */
import { z } from 'zod';
import { isStorableFileName, isStorableModelId } from './names.js';

const SHA256 = /^[0-9a-f]{64}$/i;

/** The fields of a `GET /v0/models` row the node uses; the rest is ignored. */
const FeedEntrySchema = z.object({
  name: z.string().min(1).max(500),
  path: z.string().max(4096).nullish(),
  servable: z.boolean().nullish(),
  format: z.string().nullish(),
  lifecycle_status: z.string().nullish(),
  status: z.string().nullish(),
  blob_url: z.string().max(4096).nullish(),
});

/** The router answers a bare array; `{data: [...]}` (the `/v1/models` shape) is accepted too. */
const FeedSchema = z.union([
  z.array(z.unknown()).max(100_000),
  z.object({ data: z.array(z.unknown()).max(100_000) }).transform((feed) => feed.data),
]);

const ManifestFileSchema = z.object({
  name: z.string().min(1).max(500),
  size: z.number().int().nonnegative().nullish(),
  sha256: z.string().regex(SHA256).nullish(),
  /** Upstream spelling: `sha256:<hex>`. */
  digest: z.string().max(200).nullish(),
  url: z.string().max(4096).nullish(),
  priority: z.number().nullish(),
  /** Files for other engines (`gptoss_cpp`, …) are not fetched by a llama.cpp node. */
  runtimes: z.array(z.string()).nullish(),
});

const ManifestSchema = z.object({
  files: z.array(ManifestFileSchema).min(1).max(10_000),
  primary_file: z.string().nullish(),
});

/** A model the router lists, as far as syncing goes. */
export interface RemoteModel {
  id: string;
  /** The node may run it: a GGUF the router calls servable. */
  wanted: boolean;
  /** Cached on the router, so its manifest and files can be fetched now. */
  fetchable: boolean;
  /** The router's absolute path of the primary file (shared storage candidate). */
  path: string | null;
  blobUrl: string | null;
}

export interface ManifestFile {
  name: string;
  size: number | null;
  sha256: string | null;
  /** Absolute URL; null means the router's own `/files/<name>` route. */
  url: string | null;
  priority: number;
}

export interface Manifest {
  files: ManifestFile[];
  primaryFile: string | null;
  /** Identity of the content: equal keys mean the same files with the same bytes. */
  key: string;
}

export interface Feed {
  models: RemoteModel[];
  /** Rows that could not be used, with why (logged). */
  skipped: string[];
}

export class InvalidRouterDataError extends Error {}

const FETCHABLE_STATES = new Set(['registered', 'cached']);

export function parseFeed(body: unknown): Feed {
  const rows = FeedSchema.safeParse(body);
  if (!rows.success) throw new InvalidRouterDataError('the model feed is not a list of models');
  const models: RemoteModel[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const row of rows.data) {
    const entry = FeedEntrySchema.safeParse(row);
    if (!entry.success) {
      skipped.push(`a feed row is malformed: ${entry.error.issues[0]?.message ?? 'invalid'}`);
      continue;
    }
    const { name, format, servable } = entry.data;
    if (!isStorableModelId(name)) {
      skipped.push(`model id '${name.slice(0, 100)}' cannot be stored on a node`);
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    const status = entry.data.lifecycle_status ?? entry.data.status;
    models.push({
      id: name,
      wanted: servable !== false && (format === null || format === undefined || format === 'gguf'),
      fetchable: status === null || status === undefined || FETCHABLE_STATES.has(status),
      path: entry.data.path ?? null,
      blobUrl: entry.data.blob_url ?? null,
    });
  }
  return { models, skipped };
}

function sha256Of(file: z.infer<typeof ManifestFileSchema>): string | null {
  if (file.sha256) return file.sha256.toLowerCase();
  const digest = /^sha256:([0-9a-f]{64})$/i.exec(file.digest ?? '');
  return digest ? digest[1].toLowerCase() : null;
}

/** Validates a manifest; any unsafe or duplicate file name rejects the whole manifest. */
export function parseManifest(body: unknown, routerUrl: string): Manifest {
  const parsed = ManifestSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidRouterDataError(
      `invalid manifest: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    );
  }
  const files: ManifestFile[] = [];
  const names = new Set<string>();
  for (const file of parsed.data.files) {
    if (!isStorableFileName(file.name)) {
      throw new InvalidRouterDataError(`invalid manifest: unsafe file name '${file.name.slice(0, 100)}'`);
    }
    if (names.has(file.name)) throw new InvalidRouterDataError(`invalid manifest: '${file.name}' twice`);
    names.add(file.name);
    if (file.runtimes && !file.runtimes.includes('llama_cpp')) continue;
    files.push({
      name: file.name,
      size: file.size ?? null,
      sha256: sha256Of(file),
      url: file.url ? resolveFileUrl(file.url, routerUrl) : null,
      priority: file.priority ?? 0,
    });
  }
  files.sort((a, b) => a.name.localeCompare(b.name));
  const primary = parsed.data.primary_file ?? null;
  return {
    files,
    primaryFile: primary && names.has(primary) ? primary : null,
    key: files.map((f) => `${f.name}:${f.size}:${f.sha256}`).join('|'),
  };
}

/** Only http(s); a relative URL is the router's. */
function resolveFileUrl(url: string, routerUrl: string): string {
  let resolved: URL;
  try {
    resolved = new URL(url, `${routerUrl}/`);
  } catch {
    throw new InvalidRouterDataError(`invalid manifest: bad file url '${url.slice(0, 100)}'`);
  }
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') {
    throw new InvalidRouterDataError(`invalid manifest: file url must be http(s)`);
  }
  return resolved.href;
}

/** The manifest a legacy router implies for a single-GGUF model it serves as a blob. */
export function blobManifest(model: RemoteModel, routerUrl: string): Manifest | null {
  if (!model.blobUrl) return null;
  const url = resolveFileUrl(model.blobUrl, routerUrl);
  return {
    // The feed's size is an estimate and a blob has no manifest digest: the download checks
    // the response's own length and `x-checksum-sha256` instead.
    files: [{ name: 'model.gguf', size: null, sha256: null, url, priority: 0 }],
    primaryFile: 'model.gguf',
    key: `blob:${url}`,
  };
}
