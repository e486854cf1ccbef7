/**
 * The two error shapes of the product. Every `/v1/*` error is OpenAI-shaped so that OpenAI
 * SDKs surface it; every `/v0/*` (management) error uses the simpler management shape.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface ManagementErrorBody {
  error: { message: string; code: string };
}

/** The OpenAI `type` that goes with each HTTP status we emit. */
export function openAIErrorType(status: number): string {
  if (status === 400 || status === 404 || status === 413 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 502 || status === 504) return 'upstream_error';
  if (status === 503) return 'service_unavailable';
  // 405, 408, 409, 414, 415, …: the client's request is what must change.
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'server_error';
}

export function openAIError(
  status: number,
  message: string,
  code: string | null = null,
  param: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type: openAIErrorType(status), param, code } };
}

export function managementError(message: string, code: string): ManagementErrorBody {
  return { error: { message, code } };
}
