/**
 * Which hub files a registration uses: the format decision, the GGUF choice (filename,
 * quantization or `gguf_policy`) and the safetensors choice, as pure functions of the repo's
 * file list so every rule is unit-testable. Errors are 400s with the contract's wording.
 */
import { badRequest } from '../http/errors.js';
import {
  parseQuantization,
  QUANTIZE_SOURCE_LABELS,
  type QuantLabel,
  qualityRank,
  quantLabel,
  SPEED_LABELS,
} from './quant.js';

/** One file of a hub repo, as the hub's model API lists it. */
export interface HubFile {
  /** Path inside the repo (`rfilename`). */
  path: string;
  /** Bytes (`size`, falling back to `lfs.size`); null when the hub did not say. */
  size: number | null;
  /** The LFS oid (SHA-256 of the content) for LFS files. */
  sha256: string | null;
  /** The git blob id, for non-LFS files. */
  gitSha1: string | null;
}

export type ModelFormat = 'gguf' | 'safetensors';
export type GgufPolicy = 'quality' | 'memory' | 'speed';

/** A GGUF the registration can pick: one file, or every part of a split GGUF. */
export interface GgufCandidate {
  /** The file named in choices and replies (for a split GGUF, its first part). */
  filename: string;
  parts: HubFile[];
  size: number;
  label: QuantLabel | null;
}

export type GgufChoice =
  | { kind: 'file'; candidate: GgufCandidate; label: QuantLabel | null }
  | { kind: 'quantize'; source: GgufCandidate; target: QuantLabel };

const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
const isGguf = (path: string) => path.toLowerCase().endsWith('.gguf');
const isSafetensors = (path: string) => path.toLowerCase().endsWith('.safetensors');
const isSafetensorsIndex = (path: string) => path.toLowerCase().endsWith('.safetensors.index.json');
/** Vision projectors are GGUF files too, but never the language model a policy should pick. */
const isProjector = (path: string) => /(^|\/)mmproj[^/]*$/i.test(path);
const basename = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const byName = (a: GgufCandidate, b: GgufCandidate) =>
  a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0;
const sizeOf = (c: GgufCandidate) => (Number.isFinite(c.size) ? c.size : Number.POSITIVE_INFINITY);

/** Decides the format: `format` when given (it must exist), else safetensors if present, else gguf. */
export function chooseFormat(files: HubFile[], requested: ModelFormat | undefined): ModelFormat {
  const hasGguf = files.some((f) => isGguf(f.path));
  const hasSafetensors = files.some((f) => isSafetensors(f.path) || isSafetensorsIndex(f.path));
  if (!hasGguf && !hasSafetensors) {
    throw badRequest('The repository has neither GGUF nor safetensors files', 'repo', 'no_model_files');
  }
  if (requested === undefined) {
    if (hasGguf && hasSafetensors) {
      throw badRequest(
        "format is required when both gguf and safetensors files exist in the repository ('gguf' or 'safetensors')",
        'format',
        'format_required',
      );
    }
    return hasSafetensors ? 'safetensors' : 'gguf';
  }
  if (requested === 'gguf' && !hasGguf)
    throw badRequest('The repository has no GGUF files', 'format', 'format_unavailable');
  if (requested === 'safetensors' && !hasSafetensors) {
    throw badRequest('The repository has no safetensors files', 'format', 'format_unavailable');
  }
  return requested;
}

/**
 * Groups the repo's GGUF files into candidates in repo order. A split GGUF
 * (`…-00001-of-00003.gguf`) is one candidate with all its parts; incomplete splits are left out.
 */
export function ggufCandidates(files: HubFile[]): GgufCandidate[] {
  const out: GgufCandidate[] = [];
  const splits = new Map<string, { total: number; parts: Map<number, HubFile> }>();
  for (const file of files) {
    if (!isGguf(file.path)) continue;
    const split = SPLIT.exec(file.path);
    if (!split) {
      out.push({
        filename: file.path,
        parts: [file],
        size: file.size ?? Number.NaN,
        label: quantLabel(file.path),
      });
      continue;
    }
    const key = `${split[1]}\0${split[3]}`;
    let group = splits.get(key);
    if (!group) {
      group = { total: Number(split[3]), parts: new Map() };
      splits.set(key, group);
      // Reserve the group's place in repo order; filled in below.
      out.push({ filename: key, parts: [], size: 0, label: null });
    }
    group.parts.set(Number(split[2]), file);
  }
  const result: GgufCandidate[] = [];
  for (const candidate of out) {
    const group = splits.get(candidate.filename);
    if (!group) {
      result.push(candidate);
      continue;
    }
    const parts = [...group.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    if (parts.length !== group.total || group.total < 1) continue;
    const size = parts.reduce((sum, p) => sum + (p.size ?? Number.NaN), 0);
    result.push({ filename: parts[0].path, parts, size, label: quantLabel(parts[0].path) });
  }
  return result;
}

export interface GgufRequest {
  filename?: string;
  quantization?: string;
  gguf_policy?: GgufPolicy;
  /** Whether `LLM_QUANTIZE_BIN` is configured. */
  canQuantize: boolean;
}

export function chooseGguf(files: HubFile[], request: GgufRequest): GgufChoice {
  const candidates = ggufCandidates(files);
  const quantization = request.quantization === undefined ? undefined : requireLabel(request.quantization);
  if (request.filename !== undefined) {
    const filename = request.filename;
    if (!isGguf(filename))
      throw badRequest('filename must end in .gguf for the gguf format', 'filename', 'invalid_filename');
    const candidate = candidates.find(
      (c) => c.filename === filename || c.parts.some((p) => p.path === filename),
    );
    if (!candidate) {
      const exists = files.some((f) => f.path === filename);
      throw badRequest(
        exists
          ? `'${filename}' is part of a split GGUF whose parts are not all in the repository`
          : `'${filename}' is not in the repository`,
        'filename',
        'file_not_found',
      );
    }
    if (quantization !== undefined && candidate.label !== quantization) {
      throw badRequest(
        `quantization '${request.quantization}' does not match '${filename}' (its label is ${candidate.label ?? 'unknown'})`,
        'quantization',
        'quantization_mismatch',
      );
    }
    return { kind: 'file', candidate, label: candidate.label };
  }
  const pickable = candidates.filter((c) => !isProjector(c.filename));
  if (quantization !== undefined) {
    const match = pickable.find((c) => c.label === quantization);
    if (match) return { kind: 'file', candidate: match, label: match.label };
    return planQuantization(pickable, quantization, request.canQuantize);
  }
  if (request.gguf_policy === undefined) {
    throw badRequest(
      'gguf_policy is required when neither filename nor quantization is given (quality, memory or speed)',
      'gguf_policy',
      'gguf_policy_required',
    );
  }
  if (pickable.length === 0)
    throw badRequest('The repository has no usable GGUF files', 'repo', 'no_model_files');
  const candidate = applyPolicy(pickable, request.gguf_policy);
  return { kind: 'file', candidate, label: candidate.label };
}

/** The `gguf_policy` rules of contract §4. `candidates` must not be empty. */
export function applyPolicy(candidates: GgufCandidate[], policy: GgufPolicy): GgufCandidate {
  const smallest = (list: GgufCandidate[]) =>
    [...list].sort((a, b) => sizeOf(a) - sizeOf(b) || byName(a, b))[0];
  if (policy === 'memory') return smallest(candidates);
  if (policy === 'speed') {
    const fast = candidates.filter((c) => c.label !== null && SPEED_LABELS.has(c.label));
    return smallest(fast.length > 0 ? fast : candidates);
  }
  return [...candidates].sort(
    (a, b) => qualityRank(a.label) - qualityRank(b.label) || sizeOf(b) - sizeOf(a) || byName(a, b),
  )[0];
}

function requireLabel(value: string): QuantLabel {
  const label = parseQuantization(value);
  if (!label) throw badRequest(`Unknown quantization '${value}'`, 'quantization', 'invalid_quantization');
  return label;
}

/** No file has the label: quantize from the smallest unquantized GGUF, if the tool is there. */
function planQuantization(candidates: GgufCandidate[], target: QuantLabel, canQuantize: boolean): GgufChoice {
  const sources = candidates
    .filter((c) => c.parts.length === 1 && c.label !== null && QUANTIZE_SOURCE_LABELS.has(c.label))
    .sort((a, b) => sizeOf(a) - sizeOf(b) || byName(a, b));
  if (sources.length === 0 || QUANTIZE_SOURCE_LABELS.has(target)) {
    throw badRequest(`The repository has no ${target} GGUF file`, 'quantization', 'quantization_not_found');
  }
  if (!canQuantize) {
    throw badRequest(
      `The repository has no ${target} GGUF file. It could be made from '${sources[0].filename}' with llama.cpp's ` +
        'llama-quantize, but LLM_QUANTIZE_BIN is not set on the router',
      'quantization',
      'quantize_unavailable',
    );
  }
  return { kind: 'quantize', source: sources[0], target };
}

export interface SafetensorsChoice {
  /** The chosen `.safetensors` or `.safetensors.index.json`. */
  primary: HubFile;
  isIndex: boolean;
}

/** The safetensors rules of contract §4 (`config.json` + `tokenizer.json`, one index or one file). */
export function chooseSafetensors(files: HubFile[], filename: string | undefined): SafetensorsChoice {
  const missing = ['config.json', 'tokenizer.json'].filter((name) => !files.some((f) => f.path === name));
  if (missing.length > 0) {
    throw badRequest(
      `safetensors models need config.json and tokenizer.json; the repository lacks ${missing.join(' and ')}`,
      'repo',
      'safetensors_metadata_missing',
    );
  }
  if (filename !== undefined) {
    if (!isSafetensors(filename) && !isSafetensorsIndex(filename)) {
      throw badRequest(
        'filename must end in .safetensors or .safetensors.index.json for the safetensors format',
        'filename',
        'invalid_filename',
      );
    }
    const file = files.find((f) => f.path === filename);
    if (!file) throw badRequest(`'${filename}' is not in the repository`, 'filename', 'file_not_found');
    return { primary: file, isIndex: isSafetensorsIndex(filename) };
  }
  const indexes = files.filter((f) => isSafetensorsIndex(f.path));
  if (indexes.length === 1) return { primary: indexes[0], isIndex: true };
  if (indexes.length > 1) {
    throw badRequest(
      `The repository has ${indexes.length} safetensors index files; choose one with filename`,
      'filename',
      'ambiguous_filename',
    );
  }
  const weights = files.filter((f) => isSafetensors(f.path));
  if (weights.length === 1) return { primary: weights[0], isIndex: false };
  throw badRequest(
    weights.length === 0
      ? 'The repository has no .safetensors file'
      : `The repository has ${weights.length} .safetensors files and no index; choose one with filename`,
    'filename',
    weights.length === 0 ? 'no_model_files' : 'ambiguous_filename',
  );
}

/**
 * The shard files an index's `weight_map` names, resolved relative to the index's folder.
 * Every shard must be in the repo.
 */
export function shardsOfIndex(indexPath: string, indexJson: unknown, files: HubFile[]): HubFile[] {
  const weightMap = (indexJson as { weight_map?: unknown } | null)?.weight_map;
  if (!weightMap || typeof weightMap !== 'object') {
    throw badRequest(`'${indexPath}' has no weight_map`, 'filename', 'invalid_index');
  }
  const folder = indexPath.includes('/') ? indexPath.slice(0, indexPath.lastIndexOf('/') + 1) : '';
  const names = new Set<string>();
  for (const value of Object.values(weightMap as Record<string, unknown>)) {
    if (typeof value !== 'string' || value.includes('..') || value.startsWith('/')) {
      throw badRequest(`'${indexPath}' names an invalid shard`, 'filename', 'invalid_index');
    }
    names.add(`${folder}${value}`);
  }
  if (names.size === 0) throw badRequest(`'${indexPath}' lists no shards`, 'filename', 'invalid_index');
  return [...names].sort().map((path) => {
    const file = files.find((f) => f.path === path);
    if (!file)
      throw badRequest(
        `'${indexPath}' names '${path}', which is not in the repository`,
        'filename',
        'invalid_index',
      );
    return file;
  });
}

export { basename };
