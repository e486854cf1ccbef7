/**
 * Model ids and the names that reach the filesystem. An id is the Hugging Face repo id,
 * lowercased (`org/name`); it doubles as the model's folder under the router cache, so every
 * name that comes from a URL is checked here before it gets anywhere near a path.
 */
import { badRequest, type HttpError } from '../http/errors.js';

const ID_SEGMENT = /^[a-z0-9_-][a-z0-9._-]*$/;
const REPO_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** Names of files inside a model's cache folder: flat, no leading dot (partials start with one). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
const MAX_ID_LENGTH = 200;

/** Lowercase letters, digits, `- _ . /`; no `..`, no empty, hidden or leading/trailing segment. */
export function isValidModelId(id: string): boolean {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes('..')) return false;
  return id.split('/').every((segment) => ID_SEGMENT.test(segment));
}

/** A file name the router may create or serve inside a model folder. */
export function isSafeFileName(name: string): boolean {
  return name.length <= 255 && !name.includes('..') && FILE_NAME.test(name);
}

export interface RepoRef {
  /** The repo as given (hub calls keep its case). */
  repo: string;
  /** The model id: the repo lowercased. */
  id: string;
}

const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

/**
 * Accepts `org/name` or a hub URL (`https://huggingface.co/org/name/…`, also under
 * `HF_BASE_URL`) and returns the repo and the model id.
 */
export function parseRepoInput(input: string, hfBaseUrl: string): RepoRef {
  const value = input.trim();
  let path = value;
  const looksLikeUrl =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(www\.)?(huggingface\.co|hf\.co)\//i.test(value);
  if (looksLikeUrl) {
    let url: URL;
    try {
      url = new URL(/:\/\//.test(value) ? value : `https://${value}`);
    } catch {
      throw invalidRepo(value);
    }
    const base = new URL(hfBaseUrl);
    const sameAsBase = url.host === base.host && url.pathname.startsWith(base.pathname.replace(/\/?$/, '/'));
    if (!HUB_HOSTS.has(url.hostname.toLowerCase()) && !sameAsBase) {
      throw badRequest(
        `'${value}' is not a Hugging Face URL (expected huggingface.co or ${hfBaseUrl})`,
        'repo',
        'invalid_repo',
      );
    }
    const basePath = sameAsBase ? base.pathname.replace(/\/+$/, '') : '';
    const segments = url.pathname.slice(basePath.length).split('/').filter(Boolean);
    if (segments[0] === 'api' && segments[1] === 'models') segments.splice(0, 2);
    if (segments[0] === 'models') segments.shift();
    if (segments[0] === 'datasets' || segments[0] === 'spaces') {
      throw badRequest(
        `'${value}' is a ${segments[0].slice(0, -1)}, not a model repository`,
        'repo',
        'invalid_repo',
      );
    }
    // `org/name/tree/main`, `org/name/resolve/main/file.gguf`, … → `org/name`.
    path = segments.slice(0, 2).join('/');
  }
  const segments = path.split('/');
  if (
    segments.length < 1 ||
    segments.length > 2 ||
    !segments.every((s) => REPO_SEGMENT.test(s)) ||
    path.includes('..')
  ) {
    throw invalidRepo(value);
  }
  const id = path.toLowerCase();
  if (!isValidModelId(id)) throw invalidRepo(value);
  return { repo: path, id };
}

const invalidRepo = (value: string) =>
  badRequest(
    `Invalid repo '${value}': use 'org/name' or a Hugging Face model URL (letters, digits, '-', '_', '.')`,
    'repo',
    'invalid_repo',
  );

const traversal = (what: string): HttpError =>
  badRequest(
    `Invalid ${what}: path traversal, slashes, backslashes and NUL are not allowed`,
    null,
    'invalid_path',
  );

/** The raw (still percent-encoded) segments of a URL after `prefix`, without the query string. */
export function rawSegmentsAfter(url: string, prefix: string): string[] {
  const path = url.split('?')[0];
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) : '';
  return rest === '' ? [] : rest.split('/');
}

function decodeSegment(raw: string, what: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw traversal(what);
  }
  if (decoded.includes('\0') || decoded.includes('\\')) throw traversal(what);
  return decoded;
}

/**
 * A model id from route segments: nested (`org/name`) or encoded (`org%2Fname`). Anything
 * that is not a valid id is a 400, so traversal attempts never reach a lookup.
 */
export function modelIdFromSegments(rawSegments: string[]): string {
  if (rawSegments.length === 0) throw badRequest('Missing model name', null, 'invalid_model_name');
  if (rawSegments.some((s) => s === '..' || s === '.')) throw traversal('model name');
  const id = rawSegments
    .map((s) => decodeSegment(s, 'model name'))
    .join('/')
    .toLowerCase();
  if (id.split('/').some((s) => s === '..' || s === '.') || id.includes('..')) throw traversal('model name');
  if (!isValidModelId(id)) {
    throw badRequest(
      `Invalid model name '${id}': lowercase letters, digits, '-', '_', '.' and '/' between segments`,
      null,
      'invalid_model_name',
    );
  }
  return id;
}

/** A file name from one route segment: flat, no traversal, no encoded separators. */
export function fileNameFromSegment(raw: string): string {
  if (raw === '..' || raw === '.') throw traversal('file name');
  const name = decodeSegment(raw, 'file name');
  if (name.includes('/') || name.includes('..')) throw traversal('file name');
  if (!isSafeFileName(name)) {
    throw badRequest(`Invalid file name '${name}'`, null, 'invalid_file_name');
  }
  return name;
}

export type RegistryPath =
  | { kind: 'manifest'; modelId: string }
  | { kind: 'file'; modelId: string; file: string };

/**
 * Parses what follows `/v0/models/registry/`: `<model>/manifest.json` or
 * `<model>/files/<file>`, where `<model>` may span segments. The first raw `files` segment
 * separates model and file (a model whose id has a `files` segment is addressed encoded).
 */
export function parseRegistryPath(rawSegments: string[]): RegistryPath | null {
  if (rawSegments.some((s) => s === '..' || s === '.')) throw traversal('path');
  const filesAt = rawSegments.indexOf('files');
  if (filesAt > 0) {
    if (filesAt !== rawSegments.length - 2) {
      if (filesAt === rawSegments.length - 1) return null;
      throw traversal('file name');
    }
    return {
      kind: 'file',
      modelId: modelIdFromSegments(rawSegments.slice(0, filesAt)),
      file: fileNameFromSegment(rawSegments[filesAt + 1]),
    };
  }
  if (rawSegments.length >= 2 && rawSegments[rawSegments.length - 1] === 'manifest.json') {
    return { kind: 'manifest', modelId: modelIdFromSegments(rawSegments.slice(0, -1)) };
  }
  // Validate what we can so that traversal in an unknown shape is still a 400, not a 404.
  for (const segment of rawSegments) {
    if (decodeSegment(segment, 'path').includes('..')) throw traversal('path');
  }
  return null;
}
