/**
 * The life of one inference request around the model call: metrics, the abort signal that
 * fires when the client disconnects (so llama.cpp stops generating), and shutdown.
 */

import type { InferenceKind } from '@llm-router/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Outcome, RequestTracker } from '../../observability/metrics.js';
import type { NodeServices } from '../../services.js';

export interface InferenceScope {
  readonly signal: AbortSignal;
  readonly tracker: RequestTracker;
  /** True when the request was cut short by the client (or shutdown), not by an error. */
  readonly aborted: boolean;
  end(outcome: Outcome): void;
}

export function beginInference(
  services: NodeServices,
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: InferenceKind,
): InferenceScope {
  const controller = new AbortController();
  const tracker = services.metrics.startRequest(endpoint);
  services.inflight.add(controller);
  // The response closing before it finished means the client went away.
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  };
  reply.raw.on('close', onClose);
  let ended = false;
  return {
    signal: controller.signal,
    tracker,
    get aborted() {
      return controller.signal.aborted;
    },
    end(outcome) {
      if (ended) return;
      ended = true;
      services.inflight.delete(controller);
      reply.raw.off('close', onClose);
      tracker.finish(outcome);
      request.log.debug({ endpoint, outcome }, 'inference request finished');
    },
  };
}
