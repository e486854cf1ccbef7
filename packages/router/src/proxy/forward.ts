/**
 * Forwarding with failover: wait for admission (some node has room, see admission/), ask the
 * balancer for a node, try it, and on a connect error, a 5xx or a timeout before anything
 * reached the client, ask again without the nodes already tried, up to `maxAttempts` nodes.
 * The router's in-flight count on each node is held for exactly the life of each attempt (for
 * a stream, until its last byte).
 */
import { INFERENCE_PATHS } from '@llm-router/protocol';
import type { FastifyRequest } from 'fastify';
import type { AdmissionController, AdmissionTicket } from '../admission/controller.js';
import { affinityKey, requestPriority } from '../admission/request-hints.js';
import type { Backend, BackendRequest } from '../backends.js';
import { fingerprintRequest } from '../balancer/prefix-fingerprint.js';
import type { BalancerPolicy, BalancerRequest } from '../balancer/types.js';
import type { RouterConfig } from '../config/config.js';
import type { FleetView } from '../fleet/types.js';
import type { AttemptFailure, InferenceResult } from '../history/types.js';
import { HttpError } from '../http/errors.js';
import { beginAttemptSpan, endAttemptSpan, outgoingTraceHeaders } from '../observability/trace-context.js';
import { NativeChannel } from '../transport/channel.js';
import { abandonReply, CLIENT_CLOSED_STATUS, watchClient } from '../transport/client.js';
import { type AttemptOutcome, attemptNode } from './attempt.js';
import { NodeClient } from './node-client.js';

export type ProxyConfig = Pick<
  RouterConfig,
  'connectTimeoutMs' | 'firstByteTimeoutMs' | 'idleTimeoutMs' | 'maxAttempts'
>;

export interface NodeProxyOptions {
  fleet: FleetView;
  balancer: BalancerPolicy;
  config: ProxyConfig;
  /** Defaults to keep-alive connections to every node, built from `config.connectTimeoutMs`. */
  nodes?: NodeClient;
  /** Admission control; without it every request is sent at once (nodes queue or refuse). */
  admission?: AdmissionController;
}

export type ForwardInput = Pick<BackendRequest, 'kind' | 'model' | 'request' | 'reply' | 'channel'> & {
  /** The client's request bytes, forwarded unchanged. */
  body: Buffer;
  /** What the balancer reads about the request beyond its model (prefix, affinity). */
  routing?: BalancerRequest;
};

/** The node fleet as a backend: `forward` sends the client's bytes, with failover. */
export interface NodeProxy extends Backend {
  forwardToNode(input: ForwardInput): Promise<InferenceResult>;
  /** Closes the pooled node connections. */
  close(): Promise<void>;
}

/** Only what the node needs: never the client's credentials. The request id and trace go along. */
function nodeRequestHeaders(request: FastifyRequest): Record<string, string> {
  const accept = request.headers.accept;
  return {
    'content-type': 'application/json',
    accept: typeof accept === 'string' && accept.length > 0 ? accept : 'application/json, text/event-stream',
    'x-request-id': String(request.id),
    ...outgoingTraceHeaders(request.trace),
  };
}

/**
 * When every node failed: a node that answered badly (5xx, broken reply) makes it a 502; else
 * a node that was too slow makes it a 504; when no node could even be reached the fleet simply
 * had no capacity for the request, a 503 like "no node has the model ready".
 */
function exhaustedError(model: string, failures: AttemptFailure[]): HttpError {
  if (failures.length === 0) {
    return new HttpError(
      503,
      `No available nodes: no online node has model '${model}' ready`,
      'no_available_nodes',
    );
  }
  const last = failures[failures.length - 1]!.message;
  const tried = `${failures.length} node${failures.length === 1 ? '' : 's'} tried`;
  if (failures.some((f) => f.kind === 'upstream')) {
    const upstream = failures.filter((f) => f.kind === 'upstream').at(-1)!.message;
    return new HttpError(502, `Upstream node error (${tried}): ${upstream}`, 'upstream_error');
  }
  if (failures.some((f) => f.kind === 'timeout')) {
    return new HttpError(504, `Upstream node timed out (${tried}): ${last}`, 'upstream_timeout');
  }
  return new HttpError(503, `No available nodes (${tried}): ${last}`, 'no_available_nodes');
}

export function createNodeProxy(options: NodeProxyOptions): NodeProxy {
  const { fleet, balancer, config } = options;
  const nodes = options.nodes ?? new NodeClient({ connectTimeoutMs: config.connectTimeoutMs });
  const timeouts = { firstByteTimeoutMs: config.firstByteTimeoutMs, idleTimeoutMs: config.idleTimeoutMs };
  const maxAttempts = Math.max(1, config.maxAttempts);

  async function forwardToNode(input: ForwardInput): Promise<InferenceResult> {
    const { reply, model } = input;
    const requestStartedAt = performance.now();
    const headers = nodeRequestHeaders(input.request);
    const clientGone = watchClient(reply);
    const channel = input.channel ?? new NativeChannel(reply);
    const failures: AttemptFailure[] = [];
    const tried = new Set<string>();
    const routing: BalancerRequest = input.routing ?? { model };
    // Sequences bound generation; a node embeds on its own context, outside that capacity.
    const admission = input.kind === 'embeddings' ? undefined : options.admission;
    let ticket = null as AdmissionTicket | null;
    try {
      const priority = admission ? requestPriority(input.request) : 'normal';
      /** Waits for room on a node not tried yet; a failure result when refused or abandoned. */
      const admit = async (asRetry: boolean): Promise<InferenceResult | null> => {
        if (!admission) return null;
        ticket?.release();
        try {
          // A retry has waited once already: it goes ahead of new requests.
          ticket = await admission.admit(
            model,
            asRetry ? 'high' : priority,
            () => clientGone.signal,
            (id) => !tried.has(id),
          );
          return null;
        } catch (error) {
          if (clientGone.gone) return clientClosedResult(input, failures, [...tried].at(-1) ?? null);
          if (!(error instanceof HttpError)) throw error;
          return failedResult([...tried].at(-1) ?? null, error, failures);
        }
      };
      // Nearly always there is room at once: no promise, no queue.
      ticket = admission?.admitNow(model) ?? null;
      if (admission && !ticket) {
        const refused = await admit(false);
        if (refused) return refused;
      }
      while (tried.size < maxAttempts && !clientGone.gone) {
        const selectStartedAt = performance.now();
        const available = fleet.candidatesFor(model);
        const untried = tried.size === 0 ? available : available.filter((node) => !tried.has(node.id));
        const candidates = admission ? admission.withRoom(untried, model) : untried;
        if (candidates.length === 0 && untried.length > 0 && admission) {
          // Failing over onto nodes that are all full: wait for room like any request.
          const stop = await admit(true);
          if (stop) return stop;
          continue;
        }
        const node = balancer.select(candidates, routing);
        input.request.timing?.addSelect(performance.now() - selectStartedAt);
        if (!node) break;
        tried.add(node.id);
        fleet.beginRequest(node.id);
        admission?.begin(node, model);
        ticket?.release();
        balancer.onStart?.(node);
        const attemptStartedAt = performance.now();
        // Null unless spans are exported: then the node's span is a child of this attempt's.
        const span = input.request.trace?.attempts
          ? beginAttemptSpan(input.request.trace, { nodeId: node.id })
          : null;
        let outcome: AttemptOutcome | undefined;
        try {
          outcome = await attemptNode({
            node,
            url: `${node.baseUrl}${INFERENCE_PATHS[input.kind]}`,
            body: input.body,
            headers: span ? { ...headers, ...outgoingTraceHeaders(input.request.trace, span) } : headers,
            nodes,
            timeouts,
            client: clientGone,
            channel,
            requestStartedAt,
            timing: input.request.timing,
          });
        } finally {
          // Node health, not request success: a client that left or a 4xx is not the node's fault.
          const nodeOk =
            outcome !== undefined &&
            (outcome.replied ? !outcome.reply.nodeFailed : outcome.failure.kind === 'client_closed');
          const finished = { success: nodeOk, latencyMs: performance.now() - attemptStartedAt };
          fleet.endRequest(node.id, finished);
          admission?.end(node, model);
          balancer.onFinish?.(node, finished);
          if (span)
            endAttemptSpan(
              span,
              outcome?.replied ? { status: outcome.reply.status } : { failure: outcome?.failure },
            );
        }
        if (outcome.replied) {
          const {
            nodeFailed: _nodeFailed,
            usage,
            timeToFirstByteMs: _ttfb,
            timeToFirstTokenMs,
            ...reply
          } = outcome.reply;
          if (usage?.cachedTokens !== undefined && usage.promptTokens !== undefined) {
            balancer.onUsage?.(node, routing, {
              promptTokens: usage.promptTokens,
              cachedTokens: usage.cachedTokens,
            });
          }
          return {
            nodeId: node.id,
            ...reply,
            promptTokens: usage?.promptTokens,
            completionTokens: usage?.completionTokens,
            timeToFirstTokenMs: reply.streamed ? (timeToFirstTokenMs ?? undefined) : undefined,
            failedAttempts: failures,
            failure: null,
            cachedTokens: usage?.cachedTokens,
            prefixMatchChars: routing.decision?.matchedPrefixChars,
            nodeLoad: routing.decision?.nodeLoad,
            queueWaitMs: ticket?.queued ? ticket.waitedMs : undefined,
          };
        }
        failures.push(outcome.failure);
      }
      if (clientGone.gone) return clientClosedResult(input, failures, [...tried].at(-1) ?? null);
      return failedResult([...tried].at(-1) ?? null, exhaustedError(model, failures), failures);
    } finally {
      ticket?.release();
      clientGone.dispose();
    }
  }

  return {
    forwardToNode,
    // Forward the client's own bytes; re-serialising is only a fallback for bodies parsed elsewhere.
    forward: ({ kind, model, body, rawBody, request, reply, channel }) =>
      forwardToNode({
        kind,
        model,
        body: rawBody ?? Buffer.from(JSON.stringify(body)),
        request,
        reply,
        channel,
        routing: {
          model,
          // Only a policy that reads the prefix pays for hashing the prompt.
          prefix: balancer.wantsPrefix && kind !== 'embeddings' ? fingerprintRequest(body) : null,
          affinityKey: affinityKey(request, body),
        },
      }),
    close: () => nodes.close(),
  };
}

function failedResult(nodeId: string | null, error: HttpError, failures: AttemptFailure[]): InferenceResult {
  return {
    nodeId,
    status: error.status,
    success: false,
    errorMessage: error.message,
    streamed: false,
    failedAttempts: failures,
    failure: error,
  };
}

/** Nothing can be sent any more: end the exchange without an error reply. */
function clientClosedResult(
  input: ForwardInput,
  failures: AttemptFailure[],
  nodeId: string | null,
): InferenceResult {
  abandonReply(input.reply);
  return {
    nodeId,
    status: CLIENT_CLOSED_STATUS,
    success: false,
    errorMessage: 'Client closed the request',
    streamed: false,
    failedAttempts: failures.filter((f) => f.kind !== 'client_closed'),
    failure: null,
  };
}
