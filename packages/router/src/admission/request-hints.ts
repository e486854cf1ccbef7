/**
 * What a client may say about how its request is routed: `x-priority: high|normal|low` for the
 * admission queue, and a conversation key for node affinity (`x-session-id`, else the body's
 * `user`). Bad values get a 400 rather than being silently ignored.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../http/errors.js';
import { PRIORITIES, type Priority } from './wait-queue.js';

const MAX_KEY_CHARS = 256;

export function requestPriority(request: FastifyRequest): Priority {
  const raw = request.headers['x-priority'];
  if (raw === undefined) return 'normal';
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  if (value && (PRIORITIES as readonly string[]).includes(value)) return value as Priority;
  throw badRequest(`x-priority must be one of ${PRIORITIES.join(', ')}, got '${String(raw)}'`, 'x-priority');
}

export function affinityKey(request: FastifyRequest, body: Record<string, unknown>): string | null {
  const header = request.headers['x-session-id'];
  const session = Array.isArray(header) ? header[0] : header;
  if (typeof session === 'string' && session.trim() !== '')
    return `session:${session.trim().slice(0, MAX_KEY_CHARS)}`;
  if (typeof body.user === 'string' && body.user !== '') return `user:${body.user.slice(0, MAX_KEY_CHARS)}`;
  return null;
}
