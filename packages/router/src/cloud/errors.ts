/**
 * Every failure on the cloud path becomes a `CloudError`: an OpenAI-shaped error with the HTTP
 * status the client gets. Providers map their own error bodies into it; network failures are
 * classified here (connection problems 502, timeouts 504) so all providers agree.
 */
import { type OpenAIErrorBody, openAIErrorType } from '@llm-router/protocol';
import type { CloudProviderName } from './types.js';

export class CloudError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Response headers worth keeping, such as `retry-after`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): OpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: openAIErrorType(this.status),
        param: this.param,
        code: this.code,
      },
    };
  }
}

/** A request the provider cannot express: the client gets a 400 naming the field. */
export function unsupported(message: string, param: string | null = null): CloudError {
  return new CloudError(400, message, 'unsupported_parameter', param);
}

export function invalidRequest(message: string, param: string | null = null): CloudError {
  return new CloudError(400, message, 'invalid_request', param);
}

/**
 * The status the client sees for a provider's error status. Client errors keep their status
 * (400, 401, 404, 413, 422, 429…); provider-side failures become gateway errors, except that
 * "overloaded" (503, Anthropic's 529) stays retryable as 503 and timeouts stay 504.
 */
export function clientStatusFor(upstreamStatus: number): number {
  if (upstreamStatus >= 400 && upstreamStatus < 500) return upstreamStatus;
  if (upstreamStatus === 503 || upstreamStatus === 529) return 503;
  if (upstreamStatus === 504) return 504;
  return 502;
}

/** Keeps `retry-after` (and its millisecond variant) so clients back off as the provider asked. */
export function retryHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['retry-after', 'retry-after-ms']) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') kept[name] = value;
  }
  return kept;
}

interface ErrorWithCode {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Connection refused, DNS failure, reset: 502. Any of the configured timeouts: 504. */
export function networkError(provider: CloudProviderName, error: unknown): CloudError {
  let current = error as ErrorWithCode | undefined;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current.code && TIMEOUT_CODES.has(current.code)) {
      return new CloudError(504, `${provider} did not answer in time (${current.code})`, 'upstream_timeout');
    }
    if (current.code && current.code !== 'UND_ERR_SOCKET' && !current.code.startsWith('UND_ERR')) {
      return new CloudError(
        502,
        `${provider} could not be reached: ${current.message ?? current.code}`,
        'upstream_unreachable',
      );
    }
    current = current.cause as ErrorWithCode | undefined;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CloudError(502, `${provider} connection failed: ${message}`, 'upstream_connection_error');
}

/** Parses a JSON body without throwing; `undefined` when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, single-line excerpt of a non-JSON upstream body for error messages. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
