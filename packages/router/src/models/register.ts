/**
 * `POST /v0/models/register`: validates the request against the repo's file list (contract
 * §4), plans the files to cache, estimates size and memory, stores the model as `pending` with
 * a persisted download task, and queues it. Statuses: 400 bad input, 403 gated/private repo
 * without access, 404 unknown repo, 409 duplicate, 502 hub failure.
 */

import type { ModelCapability } from '@llm-router/protocol';
import { z } from 'zod';
import { badRequest, HttpError } from '../http/errors.js';
import { newTask } from './cache-dir.js';
import { type HubClient, HubError, type HubModelInfo } from './hf-client.js';
import { isSafeFileName, parseRepoInput } from './ids.js';
import { estimateQuantizedBytes, parseQuantization } from './quant.js';
import {
  basename,
  chooseFormat,
  chooseGguf,
  chooseSafetensors,
  type GgufChoice,
  type HubFile,
  shardsOfIndex,
} from './selection.js';
import type { ModelFileRecord, ModelRecord } from './types.js';

const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

export const RegisterModelSchema = z.object({
  repo: z.string().trim().min(1, 'repo is required').max(500),
  format: optional(z.enum(['gguf', 'safetensors'])),
  filename: optional(z.string().trim().min(1).max(500)),
  quantization: optional(z.string().trim().min(1).max(32)),
  gguf_policy: optional(z.enum(['quality', 'memory', 'speed'])),
  display_name: optional(z.string().trim().min(1).max(200)),
  chat_template: optional(z.string().min(1).max(1_000_000)),
  revision: optional(
    z
      .string()
      .trim()
      .max(200)
      .regex(/^[A-Za-z0-9._/-]+$/, 'letters, digits, ., _, - and /')
      .refine((v) => !v.includes('..'), 'must not contain ..'),
  ),
});
export type RegisterModelInput = z.output<typeof RegisterModelSchema>;

/** What registration needs from the fleet: the GPU memory nodes reported. */
export interface GpuMemorySource {
  all(): Array<{ id: string; machineName: string; gpuDevices: Array<{ count: number; memory?: number }> }>;
}

export interface RegisterDeps {
  hub: HubClient;
  fleet: GpuMemorySource;
  canQuantize: boolean;
  isTaken(id: string): boolean;
}

const NOT_SERVABLE_SAFETENSORS =
  'No node engine serves safetensors yet (nodes run GGUF through llama.cpp); the model is cached on the router but never routed';

export function hubErrorToHttp(error: unknown, repo: string, hasToken: boolean): unknown {
  if (!(error instanceof HubError)) return error;
  if (error.kind === 'not_found') {
    const hint = hasToken ? '' : ' (a private repository also needs HF_TOKEN on the router)';
    return new HttpError(
      404,
      `Hugging Face repository '${repo}' or file was not found${hint}`,
      'repo_not_found',
    );
  }
  if (error.kind === 'access_denied') {
    const hint = hasToken
      ? 'the HF_TOKEN on the router has no access to it (request access on huggingface.co first)'
      : 'set HF_TOKEN on the router to a token with access';
    return new HttpError(403, `'${repo}' is gated or private: ${hint}`, 'hf_access_denied');
  }
  return new HttpError(
    502,
    `Failed to fetch the repository from Hugging Face: ${error.message}`,
    'hf_unavailable',
  );
}

/** Plans a registration and returns the `pending` record to store. Nothing is written here. */
export async function planRegistration(deps: RegisterDeps, input: RegisterModelInput): Promise<ModelRecord> {
  if (input.gguf_policy !== undefined && input.quantization !== undefined) {
    throw badRequest('Send gguf_policy or quantization, not both', 'gguf_policy', 'policy_conflict');
  }
  if (input.quantization !== undefined && !parseQuantization(input.quantization)) {
    throw badRequest(`Unknown quantization '${input.quantization}'`, 'quantization', 'invalid_quantization');
  }
  const { repo, id } = parseRepoInput(input.repo, deps.hub.baseUrl);
  if (deps.isTaken(id)) throw duplicate(id);
  const revision = input.revision ?? 'main';
  const info = await deps.hub.modelInfo(repo, revision).catch((error) => {
    throw hubErrorToHttp(error, repo, deps.hub.hasToken);
  });
  if (info.gated && !deps.hub.hasToken) {
    throw new HttpError(
      403,
      `'${repo}' is gated: set HF_TOKEN on the router to a token with access`,
      'hf_access_denied',
    );
  }
  const pinned = info.commit ?? revision;
  const format = chooseFormat(info.files, input.format);
  const warnings: string[] = [];
  let files: ModelFileRecord[];
  let filename: string;
  let quantization: ModelRecord['quantization'] = null;
  let weightsBytes: number | null;
  if (format === 'gguf') {
    const choice = chooseGguf(info.files, { ...input, canQuantize: deps.canQuantize });
    ({ files, filename, quantization, weightsBytes } = planGguf(choice));
  } else {
    if (input.quantization !== undefined || input.gguf_policy !== undefined) {
      throw badRequest(
        'quantization and gguf_policy apply to the gguf format only',
        'format',
        'invalid_option',
      );
    }
    const choice = chooseSafetensors(info.files, input.filename);
    const shards = choice.isIndex
      ? await indexShards(deps.hub, repo, pinned, choice.primary, info)
      : [choice.primary];
    files = planSafetensors(info.files, choice.primary, choice.isIndex ? shards : []);
    filename = choice.primary.path;
    weightsBytes = sumSizes(shards);
  }
  const chatTemplate =
    input.chat_template ?? (await templateFromTokenizerConfig(deps.hub, repo, pinned, info, warnings));
  // What ends up cached: the GGUF (or the estimate of a quantization's output), or every safetensors file.
  const cachedBytes = format === 'gguf' ? weightsBytes : sumSizes(files.map(asHubSize));
  if (weightsBytes === null || cachedBytes === null) {
    warnings.push('The hub did not report every file size; size and memory estimates are incomplete');
  }
  const sizeBytes = cachedBytes ?? 0;
  const requiredMemoryBytes = Math.ceil(1.5 * (weightsBytes ?? sizeBytes));
  warnings.push(...memoryWarnings(deps.fleet, requiredMemoryBytes));
  const now = Date.now();
  return {
    id,
    repo,
    revision: pinned,
    displayName: input.display_name ?? repo,
    format,
    filename,
    quantization,
    ggufPolicy: input.gguf_policy ?? null,
    chatTemplate,
    sizeBytes,
    requiredMemoryBytes,
    servable: format === 'gguf',
    servableReason: format === 'gguf' ? null : NOT_SERVABLE_SAFETENSORS,
    capabilities: guessCapabilities(repo),
    warnings,
    lifecycleStatus: 'pending',
    error: null,
    createdAt: now,
    updatedAt: now,
    cachedAt: null,
    files,
    tasks: [newTask(id, 'download')],
  };
}

export const duplicate = (id: string) =>
  new HttpError(409, `Model '${id}' is already registered`, 'model_already_registered');

const asHubSize = (f: ModelFileRecord): HubFile => ({
  path: f.name,
  size: f.sizeBytes,
  sha256: null,
  gitSha1: null,
});

function sumSizes(files: HubFile[]): number | null {
  let sum = 0;
  for (const f of files) {
    if (f.size === null) return null;
    sum += f.size;
  }
  return sum;
}

function fileRecord(
  file: HubFile,
  name: string,
  role: ModelFileRecord['role'],
  priority = 0,
): ModelFileRecord {
  return {
    name,
    sourcePath: file.path,
    role,
    sizeBytes: file.size,
    expectedSha256: file.sha256,
    expectedGitSha1: file.gitSha1,
    sha256: null,
    etag: null,
    bytesDownloaded: 0,
    status: 'pending',
    priority,
  };
}

/** GGUF files are stored as `model.gguf` (split parts as `model-0000i-of-0000N.gguf`), the upstream layout. */
function planGguf(choice: GgufChoice) {
  if (choice.kind === 'quantize') {
    const source = choice.source.parts[0];
    const output: ModelFileRecord = {
      ...fileRecord(source, 'model.gguf', 'weights'),
      sourcePath: null,
      sizeBytes: null,
    };
    output.expectedSha256 = null;
    output.expectedGitSha1 = null;
    const estimate =
      source.size === null || choice.source.label === null
        ? null
        : estimateQuantizedBytes(source.size, choice.source.label, choice.target);
    return {
      files: [fileRecord(source, `source-${choice.source.label}.gguf`, 'quantize_source'), output],
      filename: source.path,
      quantization: choice.target,
      weightsBytes: estimate,
    };
  }
  const { parts } = choice.candidate;
  const total = String(parts.length).padStart(5, '0');
  const files = parts.map((part, i) =>
    fileRecord(
      part,
      parts.length === 1 ? 'model.gguf' : `model-${String(i + 1).padStart(5, '0')}-of-${total}.gguf`,
      'weights',
    ),
  );
  return {
    files,
    filename: choice.candidate.filename,
    quantization: choice.label,
    weightsBytes: sumSizes(parts),
  };
}

const SAFETENSORS_METADATA = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'special_tokens_map.json',
];

function planSafetensors(all: HubFile[], primary: HubFile, shards: HubFile[]): ModelFileRecord[] {
  const files: ModelFileRecord[] = [];
  for (const name of SAFETENSORS_METADATA) {
    const file = all.find((f) => f.path === name);
    if (file)
      files.push(
        fileRecord(file, name, 'metadata', name === 'config.json' || name === 'tokenizer.json' ? 10 : 0),
      );
  }
  for (const file of [primary, ...shards]) {
    const name = basename(file.path);
    if (!isSafeFileName(name))
      throw badRequest(`Unsupported file name '${file.path}'`, 'filename', 'invalid_filename');
    if (files.some((f) => f.name === name)) {
      throw badRequest(
        `Two files would share the name '${name}' in the cache`,
        'filename',
        'invalid_filename',
      );
    }
    files.push(fileRecord(file, name, 'weights'));
  }
  return files;
}

async function indexShards(
  hub: HubClient,
  repo: string,
  revision: string,
  index: HubFile,
  info: HubModelInfo,
) {
  const json = await hub.fileJson(repo, revision, index.path).catch((error) => {
    throw hubErrorToHttp(error, repo, hub.hasToken);
  });
  return shardsOfIndex(index.path, json, info.files);
}

/** The repo's `tokenizer_config.json` chat template; optional metadata, so failures only warn. */
async function templateFromTokenizerConfig(
  hub: HubClient,
  repo: string,
  revision: string,
  info: HubModelInfo,
  warnings: string[],
): Promise<string | null> {
  if (!info.files.some((f) => f.path === 'tokenizer_config.json')) return null;
  try {
    const config = (await hub.fileJson(repo, revision, 'tokenizer_config.json')) as {
      chat_template?: unknown;
    };
    const template = config?.chat_template;
    if (typeof template === 'string') return template;
    if (Array.isArray(template)) {
      const named = template as Array<{ name?: unknown; template?: unknown }>;
      const pick = named.find((t) => t.name === 'default') ?? named[0];
      if (typeof pick?.template === 'string') return pick.template;
    }
    return null;
  } catch (error) {
    warnings.push(`Could not read chat_template from tokenizer_config.json: ${(error as Error).message}`);
    return null;
  }
}

const gib = (bytes: number) =>
  bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** Warns when no node reported enough GPU memory (per node, all its devices together). */
export function memoryWarnings(fleet: GpuMemorySource, required: number): string[] {
  let best: { bytes: number; name: string } | null = null;
  for (const node of fleet.all()) {
    const bytes = node.gpuDevices.reduce((sum, d) => sum + (d.memory ?? 0) * Math.max(1, d.count), 0);
    if (bytes > 0 && (!best || bytes > best.bytes)) best = { bytes, name: node.machineName };
  }
  if (!best) return [`No node has reported GPU memory yet, so it is unknown whether ${gib(required)} fits`];
  if (required > best.bytes) {
    return [
      `Needs about ${gib(required)} of GPU memory; the largest node (${best.name}) reported ${gib(best.bytes)}`,
    ];
  }
  return [];
}

function guessCapabilities(repo: string): ModelCapability[] {
  return /embed/i.test(repo) ? ['embeddings'] : ['chat', 'completion'];
}
