/**
 * Streams a verified cache file to a node, with single-range `Range` support (resume), an
 * ETag that is the file's SHA-256, and `If-None-Match` / `If-Range`. Only files the registry
 * lists as verified reach this function; partial files never have a servable name.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.js';

export interface ServableFile {
  path: string;
  name: string;
  sha256: string | null;
}

type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`; multiple ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export async function sendModelFile(request: FastifyRequest, reply: FastifyReply, file: ServableFile) {
  const info = await stat(file.path).catch(() => null);
  if (!info?.isFile()) {
    throw new HttpError(404, `File '${file.name}' is missing from the router cache`, 'file_not_found');
  }
  const etag = file.sha256 ? `"${file.sha256}"` : null;
  reply.header('accept-ranges', 'bytes');
  reply.header('content-type', 'application/octet-stream');
  reply.header('content-disposition', `attachment; filename="${file.name}"`);
  if (etag) {
    reply.header('etag', etag);
    reply.header('x-checksum-sha256', file.sha256);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  }
  const ifRange = request.headers['if-range'];
  const rangeAllowed = ifRange === undefined || ifRange === etag;
  const range = rangeAllowed ? parseRange(request.headers.range, info.size) : null;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${info.size}`);
    throw new HttpError(
      416,
      `Range not satisfiable for a ${info.size}-byte file`,
      'range_not_satisfiable',
      null,
      {
        'content-range': `bytes */${info.size}`,
      },
    );
  }
  if (range) {
    reply.code(206);
    reply.header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
    reply.header('content-length', String(range.end - range.start + 1));
    return reply.send(bodyFor(request, file.path, range.start, range.end));
  }
  reply.header('content-length', String(info.size));
  return reply.send(bodyFor(request, file.path, 0, info.size - 1));
}

/** HEAD gets an empty stream: Fastify keeps our content-length for streams and would read a real one to the end. */
function bodyFor(request: FastifyRequest, path: string, start: number, end: number): Readable {
  if (request.method === 'HEAD' || end < start) return Readable.from([]);
  return createReadStream(path, { start, end });
}
