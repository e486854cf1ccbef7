/**
 * API key scopes. `admin:*` is a superset of every other scope. `metrics:read` lets a
 * Prometheus scraper read `/metrics` and nothing else.
 */
export const API_KEY_SCOPES = ['node:register', 'api:inference', 'metrics:read', 'admin:*'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function scopeAllows(granted: readonly string[], required: ApiKeyScope): boolean {
  return granted.includes('admin:*') || granted.includes(required);
}
