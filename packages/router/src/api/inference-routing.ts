/**
 * What every `/v1` inference endpoint shares, whatever its format: picking the backend for a
 * model (a cloud prefix → the cloud gateway, otherwise the node fleet, with 404/400/503 for
 * models no node can serve), and running one request so that it is timed, recorded once for
 * request history (with its endpoint's request type) and its unsent failure rendered.
 */
import type { InferenceEndpoint, InferenceKind } from '@llm-router/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend } from '../backends.js';
import type { CloudGateway } from '../cloud/types.js';
import type { FleetView } from '../fleet/types.js';
import type { FinishedRequest, InferenceResult } from '../history/types.js';
import { HttpError } from '../http/errors.js';
import type {} from '../observability/request-timing.js';
import type {} from '../observability/trace-context.js';
import type { NodeProxy } from '../proxy/forward.js';
import type { RegisteredModelEntry, RegisteredModels } from './openai.js';

export interface InferenceRoutingDeps {
  fleet: FleetView;
  cloud?: CloudGateway;
  proxy: NodeProxy;
  registeredModels?: RegisteredModels;
  /** Gets the request too, so per-request state (the limit reservation) can be settled. */
  onRequestFinished?: (finished: FinishedRequest, request: FastifyRequest) => void;
}

export interface InferenceRouting {
  readonly fleet: FleetView;
  readonly cloud: CloudGateway | undefined;
  readonly proxy: NodeProxy;
  /**
   * The backend for a model; throws the HTTP error for a model no backend can serve (a chat
   * or completion request for an embeddings-only model: 400 up front).
   */
  backendFor(model: string, kind?: InferenceKind): Backend;
  /**
   * Runs one request: `run` forwards it and returns the backend's result; it is recorded (with
   * `model`, or the body's `model`), and an unsent failure is thrown for the error handler.
   */
  handle(
    endpoint: InferenceEndpoint,
    request: FastifyRequest,
    reply: FastifyReply,
    run: () => Promise<InferenceResult>,
  ): Promise<FastifyReply>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const modelNotFound = (id: string) =>
  new HttpError(404, `The model '${id}' does not exist`, 'model_not_found', 'model');

/** A model no node lists: unknown (404), registered but unservable (400), or still on its way (503). */
function notOnAnyNode(id: string, registered: RegisteredModelEntry | undefined): HttpError {
  if (!registered) return modelNotFound(id);
  if (!registered.servable) {
    return new HttpError(
      400,
      `The model '${id}' is registered but cannot be served: ${registered.servable_reason ?? 'no engine for its format'}`,
      'model_not_servable',
      'model',
    );
  }
  return new HttpError(
    503,
    `The model '${id}' is registered (${registered.lifecycle_status}) but no node has it ready yet`,
    'model_not_ready',
    'model',
  );
}

function outcomeOfError(error: unknown): InferenceResult {
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof Error ? error.message : String(error);
  return { nodeId: null, status, success: false, errorMessage: message, streamed: false, failedAttempts: [] };
}

export function createInferenceRouting(deps: InferenceRoutingDeps): InferenceRouting {
  const { fleet, cloud, proxy } = deps;
  return {
    fleet,
    cloud,
    proxy,
    backendFor(model, kind = 'chat') {
      if (cloud?.parseModel(model)) return cloud;
      if (!fleet.isModelKnown(model)) throw notOnAnyNode(model, deps.registeredModels?.getForApi(model));
      if (kind !== 'embeddings' && fleet.servesOnlyEmbeddings(model)) {
        throw new HttpError(
          400,
          `The model '${model}' is an embeddings model: use /v1/embeddings for it`,
          'model_not_chat_capable',
          'model',
        );
      }
      return proxy;
    },
    async handle(endpoint, request, reply, run) {
      const startedAt = performance.now();
      const body = request.body;
      const record = (outcome: InferenceResult) => {
        const { failure: _failure, ...fields } = outcome;
        const principal = request.principal;
        try {
          deps.onRequestFinished?.(
            {
              kind: endpoint.kind,
              requestType: endpoint.requestType,
              model: isRecord(body) && typeof body.model === 'string' ? body.model : '',
              ...fields,
              durationMs: performance.now() - startedAt,
              requestBody: body ?? null,
              clientIp: request.ip,
              apiKeyId: principal?.kind === 'api_key' ? principal.apiKeyId : null,
              requestId: String(request.id),
              traceId: request.trace?.traceId,
              timing: request.timing?.breakdown(),
              upstreamMs: request.timing?.upstreamMs || undefined,
            },
            request,
          );
        } catch (error) {
          request.log.error({ err: error }, 'recording a finished request failed');
        }
      };
      let outcome: InferenceResult;
      try {
        outcome = await run();
      } catch (error) {
        record(outcomeOfError(error));
        throw error;
      }
      record(outcome);
      // Failures the router or a backend caused are worth a line naming the request and trace;
      // successes are in history (a line each would cost more than the routing itself).
      if (outcome.status >= 500)
        request.log.warn(
          {
            trace_id: request.trace?.traceId,
            status: outcome.status,
            node_id: outcome.nodeId,
            err: outcome.errorMessage,
          },
          'inference request failed',
        );
      else
        request.log.debug(
          { trace_id: request.trace?.traceId, status: outcome.status, node_id: outcome.nodeId },
          'inference request finished',
        );
      if (outcome.failure) throw outcome.failure;
      return reply;
    },
  };
}
