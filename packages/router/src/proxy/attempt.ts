/**
 * One try of one request on one node. Until the node has sent its first body byte (and, for a
 * non-stream reply, its whole body) nothing reaches the client, so any failure up to then is
 * reported back for failover. Once an SSE stream has started, failures end the stream with an
 * OpenAI-shaped error event instead.
 */
import { NODE_USAGE_TRAILER, openAIError } from '@llm-router/protocol';
import type { FleetNode } from '../fleet/types.js';
import type { AttemptFailure } from '../history/types.js';
import type { RequestTiming } from '../observability/request-timing.js';
import type { ReplyChannel } from '../transport/channel.js';
import { CLIENT_CLOSED_STATUS, type ClientWatch } from '../transport/client.js';
import { DeadlineTimer } from '../transport/deadline.js';
import { sseErrorTail } from '../transport/sse.js';
import { describeNodeError, SseFramer } from '../transport/sse-passthrough.js';
import { extractUsageFromJson, readUsageTrailer, type TokenUsage } from '../transport/usage.js';
import { NodeCall } from './node-call.js';
import type { NodeClient } from './node-client.js';

/** A non-stream reply larger than this is treated as a node fault (replies are normally small). */
const MAX_BUFFERED_REPLY_BYTES = 64 * 1024 * 1024;
/** How much of a 5xx body is kept for the error message. */
const MAX_ERROR_SNIPPET_BYTES = 2048;
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

export interface AttemptTimeouts {
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface AttemptInput {
  node: FleetNode;
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  /** The connections to nodes the call goes out on. */
  nodes: NodeClient;
  timeouts: AttemptTimeouts;
  /** Tells when the client disconnects. */
  client: ClientWatch;
  channel: ReplyChannel;
  /** `performance.now()` when the client's request arrived, for time to first byte. */
  requestStartedAt: number;
  /** Receives connect, ttfb and time spent on the node (Server-Timing, history, metrics). */
  timing?: RequestTiming;
}

export interface AttemptReply {
  status: number;
  success: boolean;
  errorMessage: string | null;
  streamed: boolean;
  usage: TokenUsage | null;
  timeToFirstByteMs: number;
  /**
   * Streams: time to the first chunk carrying content or a tool call (not the role chunk a
   * node sends before its prefill); null when no such chunk came.
   */
  timeToFirstTokenMs: number | null;
  /** For history: the reply's JSON text, or for a stream its reassembled text. */
  responseBody: unknown;
  /** The node failed after the reply started (stream broke or stalled, or it sent an error event). */
  nodeFailed: boolean;
}

export type AttemptOutcome =
  | { replied: true; reply: AttemptReply }
  | { replied: false; failure: AttemptFailure };

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  return e.cause ? errorCode(e.cause) : undefined;
}

function classifyFailure(input: AttemptInput, timer: DeadlineTimer, error: unknown): AttemptFailure {
  const { node, timeouts } = input;
  const name = `node ${node.machineName}`;
  if (input.client.gone) {
    return { nodeId: node.id, kind: 'client_closed', message: 'Client closed the request' };
  }
  if (timer.fired === 'first_byte') {
    return {
      nodeId: node.id,
      kind: 'timeout',
      message: `${name} sent no response within ${timeouts.firstByteTimeoutMs} ms`,
    };
  }
  if (timer.fired === 'idle') {
    return {
      nodeId: node.id,
      kind: 'timeout',
      message: `${name} stalled for ${timeouts.idleTimeoutMs} ms mid-reply`,
    };
  }
  const code = errorCode(error);
  if (code && CONNECT_ERROR_CODES.has(code)) {
    return { nodeId: node.id, kind: 'connect', message: `Cannot connect to ${name}: ${code}` };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { nodeId: node.id, kind: 'upstream', message: `${name} failed: ${code ? `${code} ` : ''}${detail}` };
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

async function readSnippet(call: NodeCall): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_SNIPPET_BYTES) {
      const chunk = await call.read();
      if (chunk === null) break;
      parts.push(chunk);
      size += chunk.length;
    }
  } catch {
    // A broken error body still leaves the status as the message.
  }
  return Buffer.concat(parts).subarray(0, MAX_ERROR_SNIPPET_BYTES).toString('utf8').trim();
}

/**
 * A node's 4xx body is passed through unchanged when it is already OpenAI-shaped
 * (`{"error":{"message":…}}`); anything else is wrapped so the client still gets that shape.
 */
function clientErrorBody(status: number, data: Buffer): { body: Buffer | object; message: string } {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { error?: unknown };
    const error = parsed?.error;
    if (
      typeof error === 'object' &&
      error !== null &&
      typeof (error as { message?: unknown }).message === 'string'
    ) {
      return { body: data, message: (error as { message: string }).message };
    }
    if (error !== undefined) {
      const message = describeNodeError(error);
      return { body: openAIError(status, message, 'node_upstream_error'), message };
    }
  } catch {
    // Not JSON: wrap the text below.
  }
  const message = data.toString('utf8').trim().slice(0, MAX_ERROR_SNIPPET_BYTES) || `Node answered ${status}`;
  return { body: openAIError(status, message, 'node_upstream_error'), message };
}

export async function attemptNode(input: AttemptInput): Promise<AttemptOutcome> {
  const { node, timeouts } = input;
  const call = NodeCall.start(input.nodes, input);
  const abortForClient = () => call.abort(new Error('client closed'));
  if (input.client.gone) abortForClient();
  const stopWatchingClient = input.client.onGone(abortForClient);
  const timer = new DeadlineTimer(call);
  const fail = (error: unknown): AttemptOutcome => ({
    replied: false,
    failure: classifyFailure(input, timer, error),
  });
  const sentAt = performance.now();
  try {
    timer.arm(timeouts.firstByteTimeoutMs, 'first_byte');
    try {
      await call.response();
    } catch (error) {
      return fail(error);
    }
    if (input.timing) input.timing.connectMs = performance.now() - sentAt;
    const status = call.status;
    // A node's 404 on an inference path means the model is gone from it (unloaded, file
    // removed) since its last heartbeat: another node may still have it, so fail over.
    if (status >= 500 || status < 200 || (status >= 300 && status < 400) || status === 404) {
      const snippet = await readSnippet(call);
      if (input.client.gone || timer.fired) return fail(new Error('aborted'));
      const message = `node ${node.machineName} answered ${status}${snippet ? `: ${snippet}` : ''}`;
      return { replied: false, failure: { nodeId: node.id, kind: 'upstream', message } };
    }
    let first: Buffer | null;
    try {
      first = await call.read();
    } catch (error) {
      return fail(error);
    }
    timer.clear();
    const timeToFirstByteMs = performance.now() - input.requestStartedAt;
    if (input.timing) input.timing.ttfbMs = timeToFirstByteMs;
    const contentType = headerValue(call.headers['content-type']);
    if (status < 300 && contentType.includes('text/event-stream')) {
      const reply = await streamToClient(input, timer, status, contentType, call, first, timeToFirstByteMs);
      return { replied: true, reply };
    }

    // Not a stream: collect the whole (small) body first, so a node dying mid-body fails over.
    const parts = first === null ? [] : [first];
    let size = first?.length ?? 0;
    while (first !== null) {
      // A small reply usually arrives whole with its head: reading what is here needs no timer.
      const waiting = !call.ended;
      if (waiting) timer.arm(timeouts.idleTimeoutMs, 'idle');
      let next: Buffer | null;
      try {
        next = await call.read();
      } catch (error) {
        return fail(error);
      }
      if (waiting) timer.clear();
      if (next === null) break;
      size += next.length;
      if (size > MAX_BUFFERED_REPLY_BYTES) {
        const message = `node ${node.machineName} sent a reply larger than ${MAX_BUFFERED_REPLY_BYTES} bytes`;
        return { replied: false, failure: { nodeId: node.id, kind: 'upstream', message } };
      }
      parts.push(next);
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    // Each reply written out whole: V8 builds `{ ...base, more }` on a slow path, a microsecond
    // per object (measured), more than the rest of this function.
    if (status >= 400) {
      const { body, message } = clientErrorBody(status, data);
      input.channel.sendJson(status, body);
      const responseBody = Buffer.isBuffer(body) ? body.toString('utf8') : body;
      return {
        replied: true,
        reply: {
          status,
          success: false,
          errorMessage: message,
          streamed: false,
          usage: null,
          timeToFirstByteMs,
          timeToFirstTokenMs: null,
          responseBody,
          nodeFailed: false,
        },
      };
    }
    input.channel.sendJson(status, data);
    // History gets the JSON text, not a parsed object: parsing a large embeddings reply only
    // to cap it would cost more than the request itself.
    const usage = extractUsageFromJson(data);
    return {
      replied: true,
      reply: {
        status,
        success: true,
        errorMessage: null,
        streamed: false,
        usage,
        timeToFirstByteMs,
        timeToFirstTokenMs: null,
        responseBody: data.toString('utf8'),
        nodeFailed: false,
      },
    };
  } finally {
    timer.clear();
    if (input.timing) input.timing.upstreamMs += performance.now() - sentAt;
    stopWatchingClient();
    // A reply not read to its end (failover, errors) must not pin the pooled connection.
    if (!call.ended) call.abort(new Error('reply abandoned'));
  }
}

/**
 * The SSE path: from here on the client has our headers, so every node failure turns into an
 * error event followed by `[DONE]` and the end of the response (never a hang).
 */
async function streamToClient(
  input: AttemptInput,
  timer: DeadlineTimer,
  status: number,
  contentType: string,
  call: NodeCall,
  first: Buffer | null,
  timeToFirstByteMs: number,
): Promise<AttemptReply> {
  const { channel, node, timeouts } = input;
  // The idle timer is off while writing: only the client leaving ends a wait for it to drain.
  const signal = input.client.signal;
  channel.openStream(status, contentType);
  const framer = new SseFramer();
  /** The client gets the bytes first; history's reading of them comes after. */
  const forward = (chunk: Buffer): Promise<void> => {
    const ready = framer.frame(chunk);
    const written = channel.write(ready, signal);
    framer.inspect(ready);
    return written;
  };
  let broken: { status: number; code: string; message: string } | null = null;
  try {
    if (first !== null) {
      await forward(first);
      for (;;) {
        timer.arm(timeouts.idleTimeoutMs, 'idle');
        const next = await call.read();
        timer.clear();
        if (next === null) break;
        await forward(next);
      }
    }
    await channel.write(framer.flush(), signal);
  } catch (error) {
    timer.clear();
    broken =
      timer.fired === 'idle'
        ? {
            status: 504,
            code: 'upstream_timeout',
            message: `node ${node.machineName} stalled for ${timeouts.idleTimeoutMs} ms mid-stream`,
          }
        : {
            status: 502,
            code: 'upstream_error',
            message: `node ${node.machineName} stream broke: ${error instanceof Error ? error.message : String(error)}`,
          };
  }
  // The usage chunk when the client asked for one, else the node's trailer (this project's
  // nodes send it on every stream), so history and drift correction see every stream's usage.
  const usage = framer.usage ?? (broken ? null : readUsageTrailer(call.trailers[NODE_USAGE_TRAILER]));
  const responseBody = framer.reassembled();
  const timeToFirstTokenMs =
    framer.firstContentAt === null ? null : framer.firstContentAt - input.requestStartedAt;
  const finished = (
    finalStatus: number,
    success: boolean,
    errorMessage: string | null,
    nodeFailed: boolean,
  ): AttemptReply => ({
    status: finalStatus,
    success,
    errorMessage,
    streamed: true,
    usage,
    timeToFirstByteMs,
    timeToFirstTokenMs,
    responseBody,
    nodeFailed,
  });
  if (input.client.gone || channel.gone) {
    channel.reply.raw.destroy();
    return finished(CLIENT_CLOSED_STATUS, false, 'Client closed the stream', false);
  }
  if (broken) {
    // A held partial event is dropped; only after an oversized one must the event be closed first.
    channel.end(sseErrorTail(openAIError(broken.status, broken.message, broken.code), framer.endsMidEvent));
    return finished(status, false, broken.message, true);
  }
  channel.end();
  return framer.nodeError
    ? finished(status, false, framer.nodeError, true)
    : finished(status, true, null, false);
}
