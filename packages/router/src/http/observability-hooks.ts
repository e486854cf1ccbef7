/**
 * Server-wide hooks that give every `/v1` request (whatever its format: OpenAI, Anthropic
 * Messages, Responses, model listing) its timing and trace: started before any route's auth,
 * `auth` marked once the route's onRequest hooks passed, and `Server-Timing` and `x-trace-id`
 * on the response — even a 401 or a 404. Streams write their head through `openSseReply`,
 * which adds `Server-Timing` itself.
 */
import type { FastifyInstance } from 'fastify';
import { RequestTiming } from '../observability/request-timing.js';
import { traceContextOf } from '../observability/trace-context.js';

const isV1 = (url: string) => url.startsWith('/v1/') || url === '/v1' || url.startsWith('/v1?');

export function registerObservabilityHooks(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (isV1(request.url)) {
      request.timing = new RequestTiming();
      request.trace = traceContextOf(request);
      reply.header('x-trace-id', request.trace.traceId);
    }
    done();
  });
  // preParsing runs after every onRequest hook (the route's authentication included).
  app.addHook('preParsing', (request, _reply, payload, done) => {
    request.timing?.markAuthenticated();
    done(null, payload);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.timing) reply.header('server-timing', request.timing.header());
    done(null, payload);
  });
}
