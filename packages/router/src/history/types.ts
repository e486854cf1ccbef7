/**
 * What request history records, and the one result type every backend (the node fleet, each
 * cloud provider) returns, so the routes hand it to history as is.
 */
import type { InferenceKind, RequestType } from '@llm-router/protocol';
import type { CloudProviderName } from '../cloud/types.js';
import type { HttpError } from '../http/errors.js';
import type { TimingBreakdown } from '../observability/request-timing.js';
import type { RoutingRecord } from './routing-record.js';

/**
 * Why one node attempt did not produce the reply. `connect`, `timeout` and `upstream` (a 5xx
 * or a broken response before anything reached the client) move on to the next node.
 */
export type AttemptFailureKind = 'connect' | 'timeout' | 'upstream' | 'client_closed';

export interface AttemptFailure {
  nodeId: string;
  kind: AttemptFailureKind;
  message: string;
}

/** What a backend reports after it answered (or failed to answer) one request. */
export interface InferenceResult extends RoutingRecord {
  /** The node that served it (on failure the last node tried); null for cloud or no node. */
  nodeId: string | null;
  /** Set when a cloud provider served the request. */
  cloudProvider?: CloudProviderName;
  /** HTTP status the client got (or will get from `failure`); 499 when the client left first. */
  status: number;
  /** True for a 2xx reply that completed (streams: ended without an error). */
  success: boolean;
  errorMessage: string | null;
  /** Whether the reply was an SSE stream. */
  streamed: boolean;
  promptTokens?: number;
  completionTokens?: number;
  /** Streams only: time from the request to the first streamed byte or generated token. */
  timeToFirstTokenMs?: number;
  /** Time spent waiting on the backend (request sent to last byte received), when known. */
  upstreamMs?: number;
  /** Nodes that were tried and failed over, in order (empty when the first node served it). */
  failedAttempts: AttemptFailure[];
  /**
   * What the client got: the JSON reply as text (parse it if needed; large bodies are not parsed
   * on the request path), or for a stream `{ text, finish_reason, truncated? }` reassembled from
   * its chunks (text capped at 64 KiB). Absent for errors the router produced itself.
   */
  responseBody?: unknown;
  /** Set when nothing was sent to the client yet: the route throws it so the error handler renders it. */
  failure?: HttpError | null;
}

/** One finished `/v1` inference request, as request history records it. */
export interface FinishedRequest extends Omit<InferenceResult, 'failure'> {
  kind: InferenceKind;
  /** The endpoint's request type; defaults to the kind's OpenAI endpoint. */
  requestType?: RequestType;
  /** The `model` the client asked for ('' when it sent none). */
  model: string;
  durationMs: number;
  /** The parsed JSON body as the client sent it. */
  requestBody: unknown;
  clientIp: string;
  apiKeyId: string | null;
  /** The `x-request-id` the client sent or the router made up (returned on the response). */
  requestId?: string;
  /** The W3C trace the request belongs to (the client's, or one the router started). */
  traceId?: string;
  /** The Server-Timing breakdown (see observability/request-timing.ts). */
  timing?: TimingBreakdown;
}
