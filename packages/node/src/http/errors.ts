/**
 * One exception type for every error the node answers with, and the mapping from the domain
 * errors (prompt too long, queue full, ...) to HTTP. The server's error handler renders it in
 * the shape of the route family: OpenAI-shaped on `/v1`, the management shape elsewhere.
 */
import { managementError, openAIError } from '@llm-router/protocol';
import { InputTooLongError } from '../inference/embeddings.js';
import { PromptError } from '../inference/prompt.js';
import { PoolClosedError, QueueFullError } from '../inference/sequence-pool.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, param: string | null = null, code = 'invalid_request') =>
  new HttpError(400, message, code, param);

export const unsupportedParameter = (param: string, detail = 'is not supported by this node') =>
  new HttpError(400, `'${param}' ${detail}`, 'unsupported_parameter', param);

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** Maps anything thrown while handling a request to the error the client should see. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PromptError) return new HttpError(400, error.message, error.code, error.param);
  if (error instanceof InputTooLongError) {
    return new HttpError(400, error.message, 'context_length_exceeded', 'input');
  }
  if (error instanceof QueueFullError) {
    return new HttpError(503, error.message, 'queue_full', null, { 'retry-after': '1' });
  }
  if (error instanceof PoolClosedError) return new HttpError(503, error.message, 'model_unavailable');
  const e = (error ?? {}) as FastifyLikeError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'Request body is too large', 'request_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return badRequest('Content-Type must be application/json', null, 'unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return badRequest('Request body is empty; a JSON object is required', null, 'invalid_json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest('Request body is not valid JSON', null, 'invalid_json');
  }
  if (error instanceof SyntaxError && e.statusCode === 400) {
    return badRequest('Request body is not valid JSON', null, 'invalid_json');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpError(e.statusCode, e.message ?? 'Bad request', 'invalid_request');
  }
  return new HttpError(500, 'Internal error while handling the request', 'internal_error');
}

export function errorBody(url: string, error: HttpError) {
  return url.startsWith('/v1/') || url === '/v1'
    ? openAIError(error.status, error.message, error.code, error.param)
    : managementError(error.message, error.code);
}
