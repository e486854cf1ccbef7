/**
 * Gemini errors (`{error:{code, message, status, details}}`) → OpenAI-shaped errors. Gemini's
 * 429 usually has no `Retry-After` header but says how long to wait in a `RetryInfo` detail
 * (`"retryDelay": "13s"`); that becomes the `Retry-After` the client sees.
 */
import { CloudError, clientStatusFor, excerpt, isRecord, parseJson, retryHeaders } from '../errors.js';

function readError(json: unknown): Record<string, unknown> {
  return isRecord(json) && isRecord(json.error) ? json.error : {};
}

function retryDelaySeconds(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (!isRecord(detail) || typeof detail.retryDelay !== 'string') continue;
    const seconds = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay)?.[1];
    if (seconds) return String(Math.ceil(Number(seconds)));
  }
  return undefined;
}

function toCloudError(
  status: number,
  error: Record<string, unknown>,
  fallback: string,
  headers: Record<string, string>,
) {
  const message = typeof error.message === 'string' ? error.message : fallback;
  const code = typeof error.status === 'string' ? error.status : null;
  const retryAfter = retryDelaySeconds(error.details);
  const kept = { ...headers };
  if (retryAfter && !kept['retry-after']) kept['retry-after'] = retryAfter;
  return new CloudError(clientStatusFor(status), `google: ${message}`, code, null, kept);
}

export function googleError(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): CloudError {
  return toCloudError(
    status,
    readError(parseJson(body)),
    excerpt(body) || `HTTP ${status}`,
    retryHeaders(headers),
  );
}

/** An `{error:…}` object sent as a stream event; its `code` is the HTTP status it stands for. */
export function googleStreamError(json: unknown): CloudError {
  const error = readError(json);
  const status = typeof error.code === 'number' && error.code >= 400 ? error.code : 502;
  return toCloudError(status, error, 'stream error', {});
}
