/**
 * Base URLs are accepted in the form each provider's own SDK writes them and in the bare-root
 * form, and normalised here so that the providers only ever append their endpoint path.
 */

/** A path ending in a version segment such as `/v1`, `/v1beta`, `/v2alpha1`. */
const VERSION_SEGMENT = /\/v\d+[a-z0-9]*$/i;

function trimUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * OpenAI: `https://api.openai.com` and `https://api.openai.com/v1` are the same API. A URL that
 * already ends in a version segment (or in `/openai`, Gemini's OpenAI-compatible root) is used
 * as given; otherwise `/v1` is appended.
 */
export function openAIApiRoot(url: string): string {
  const base = trimUrl(url);
  if (VERSION_SEGMENT.test(base) || /\/openai$/i.test(base)) return base;
  return `${base}/v1`;
}

/** Anthropic: the SDK takes the bare root; `…/v1` is accepted too. */
export function anthropicApiRoot(url: string): string {
  const base = trimUrl(url).replace(/\/v1$/i, '');
  return `${base}/v1`;
}

/** Google: the REST docs write `…/v1beta`, the SDK takes the bare root; both are accepted. */
export function googleApiRoot(url: string): string {
  const base = trimUrl(url);
  return VERSION_SEGMENT.test(base) ? base : `${base}/v1beta`;
}
