/** What the proxy hands back to the `/v1` routes, so they can reply and record history. */
import type { InferenceKind } from '../cloud/types.js';
import type { HttpError } from '../http/errors.js';

/** The node endpoint each kind of request goes to (the node speaks the OpenAI API). */
export const NODE_PATHS: Record<InferenceKind, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
};

export interface TokenUsage {
  promptTokens?: number;
  completionTokens?: number;
}

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

/** Status recorded when the client went away before a reply (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

export interface ProxyResult {
  /** The node that produced the reply; on failure the last node tried; null if none was tried. */
  nodeId: string | null;
  /** The HTTP status the client got (or will get from `failure`); 499 if the client left first. */
  status: number;
  /** True for a 2xx reply that completed (streams: ended without an error). */
  success: boolean;
  errorMessage: string | null;
  /** Whether the reply was an SSE stream passed through from the node. */
  streamed: boolean;
  usage: TokenUsage | null;
  /** From the start of the request to the first body byte of the node that served it. */
  timeToFirstByteMs: number | null;
  /**
   * For request history: the JSON text of a non-stream reply (a node's 4xx included), or for a
   * stream `{ text, finish_reason, truncated? }` reassembled from its chunks. Absent on failure.
   */
  responseBody?: unknown;
  /** The attempts that failed over (or failed in the end), in order. */
  failedAttempts: AttemptFailure[];
  /** Set when nothing was sent to the client yet: the route throws it so the error handler renders it. */
  failure: HttpError | null;
}
