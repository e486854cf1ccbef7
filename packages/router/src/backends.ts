/**
 * The one backend interface. The node fleet (`proxy/`) and the cloud gateway (`cloud/`, one
 * provider module per cloud) both implement it: take a request of one kind, write the reply to
 * the client, and report one `InferenceResult` for history. The `/v1` routes pick the backend
 * by the model name and never look inside either.
 */
import type { InferenceKind } from '@llm-router/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceResult } from './history/types.js';
import type { ReplyChannel } from './transport/channel.js';

export interface BackendRequest {
  kind: InferenceKind;
  /** The model name the client sent (with any cloud prefix). */
  model: string;
  /** The parsed client body (already validated for its kind). */
  body: Record<string, unknown>;
  /** The client's bytes, forwarded unchanged where the backend speaks the client's format. */
  rawBody: Buffer | undefined;
  request: FastifyRequest;
  reply: FastifyReply;
  /**
   * Where the OpenAI-shaped reply goes; absent: straight to the client (`NativeChannel`). Format
   * adapters pass one that translates.
   */
  channel?: ReplyChannel;
}

export interface Backend {
  /** Sends the request and writes the whole reply (JSON or SSE) to `reply`. */
  forward(input: BackendRequest): Promise<InferenceResult>;
}
