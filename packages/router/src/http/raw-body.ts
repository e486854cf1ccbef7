/**
 * The router forwards the client's original request bytes to nodes (no re-serialisation), so
 * the JSON body parser keeps the raw buffer next to the parsed object.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as the client sent it (JSON routes only). */
    rawBody?: Buffer;
  }
}

export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    request.rawBody = buffer;
    if (buffer.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(buffer.toString('utf8')));
    } catch {
      done(badRequest('Request body is not valid JSON', null, 'invalid_json'), undefined);
    }
  });
}
