/**
 * Anthropic error bodies (`{type:"error", error:{type, message}}`) → OpenAI-shaped errors. The
 * same body arrives as an HTTP reply or as an in-band `event: error` in a stream; in a stream
 * there is no HTTP status, so the status comes from the error type.
 */
import { CloudError, clientStatusFor, excerpt, isRecord, parseJson, retryHeaders } from '../errors.js';

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 502,
  timeout_error: 504,
  overloaded_error: 503,
};

function readError(json: unknown): { type: string | null; message: string | undefined } {
  const error = isRecord(json) && isRecord(json.error) ? json.error : undefined;
  return {
    type: typeof error?.type === 'string' ? error.type : null,
    message: typeof error?.message === 'string' ? error.message : undefined,
  };
}

export function anthropicError(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): CloudError {
  const { type, message } = readError(parseJson(body));
  return new CloudError(
    clientStatusFor(status),
    `anthropic: ${message ?? (excerpt(body) || `HTTP ${status}`)}`,
    type,
    null,
    retryHeaders(headers),
  );
}

/** An `error` event in the middle of a stream. */
export function anthropicStreamError(json: unknown): CloudError {
  const { type, message } = readError(json);
  const status = (type !== null ? STATUS_BY_TYPE[type] : undefined) ?? 502;
  return new CloudError(clientStatusFor(status), `anthropic: ${message ?? 'stream error'}`, type);
}
