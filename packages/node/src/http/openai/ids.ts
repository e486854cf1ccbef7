import { randomUUID } from 'node:crypto';

/** OpenAI-style ids: a prefix and 24+ random characters (`chatcmpl-…`, `cmpl-…`). */
export function responseId(prefix: 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomUUID().replace(/-/g, '')}`;
}

export const unixSeconds = () => Math.floor(Date.now() / 1000);
