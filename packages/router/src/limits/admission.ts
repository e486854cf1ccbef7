/**
 * Where limits meet HTTP: a preHandler on the `/v1` inference routes reserves before the
 * request reaches a node (429 in the OpenAI shape with `Retry-After` and `x-ratelimit-*`
 * headers when over), and `settleFinished` settles the reservation with the real usage once
 * the request is recorded. Callers without limits pay nothing but a map lookup.
 */
import { inferenceEndpointFor } from '@llm-router/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../http/auth-context.js';
import { HttpError } from '../http/errors.js';
import {
  type Admission,
  DEFAULT_COMPLETION_RESERVE,
  LimitExceeded,
  type Limiter,
  type LimitKind,
  type RateHeadersState,
} from './limiter.js';
import type { Limits } from './spec.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The limit reservation this request holds, settled when it finishes. */
    limitAdmission?: Admission;
  }
}

export interface AdmissionDeps {
  limiter: Limiter;
  /** The caller's limits (an API key's, or a dashboard user's), null when it has none. */
  limitsFor(principal: Principal): Limits | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The most tokens a request may use: a prompt estimate (a token per 4 bytes of the body) plus
 * the completion it asks for (`max_tokens` / `max_completion_tokens`, else a default reserve).
 * The reservation is settled to the real usage when the request ends.
 */
export function tokensToReserve(kind: string, body: unknown, bodyBytes: number): number {
  const prompt = Math.ceil(bodyBytes / 4);
  if (kind === 'embeddings' || !isRecord(body)) return prompt;
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const completion =
    typeof asked === 'number' && Number.isFinite(asked) && asked >= 0
      ? Math.ceil(asked)
      : DEFAULT_COMPLETION_RESERVE;
  return prompt + completion;
}

const subjectOf = (principal: Principal) =>
  principal.kind === 'api_key' ? `key:${principal.apiKeyId}` : `user:${principal.userId}`;

const seconds = (ms: number) => `${Math.max(0, Math.ceil(ms / 1000))}s`;

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, like OpenAI's. */
export function rateLimitHeaders(state: RateHeadersState): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const family of ['requests', 'tokens'] as const) {
    const window = state[family];
    if (!window) continue;
    headers[`x-ratelimit-limit-${family}`] = String(window.limit);
    headers[`x-ratelimit-remaining-${family}`] = String(window.remaining);
    headers[`x-ratelimit-reset-${family}`] = seconds(window.resetMs);
  }
  return headers;
}

/** How long after its reply closes an unrecorded request's reservation is released. */
const ORPHAN_SETTLE_MS = 10_000;

const CODES: Record<LimitKind, string> = {
  requests: 'rate_limit_exceeded',
  tokens: 'rate_limit_exceeded',
  concurrent: 'concurrency_limit_exceeded',
  budget: 'budget_exceeded',
};

export function registerLimitAdmission(app: FastifyInstance, deps: AdmissionDeps): void {
  // A callback hook, not an async one: every request passes here, and one without limits
  // (the usual case) should not pay for a promise and the extra turns Fastify gives it.
  app.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (request.method !== 'POST' || !request.principal) return done();
    const endpoint = inferenceEndpointFor(request.url.split('?')[0] as string);
    if (!endpoint) return done();
    const principal = request.principal;
    const limits = deps.limitsFor(principal);
    if (!limits) return done();
    admit(deps, request, reply, principal, endpoint.kind, limits).then(() => done(), done);
  });
}

async function admit(
  deps: AdmissionDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  kind: string,
  limits: Limits,
): Promise<void> {
  const body = request.body;
  const model = isRecord(body) && typeof body.model === 'string' ? body.model : '';
  const reserve = tokensToReserve(kind, body, request.rawBody?.length ?? 0);
  try {
    request.limitAdmission = await deps.limiter.admit(subjectOf(principal), limits, model, reserve);
  } catch (error) {
    if (!(error instanceof LimitExceeded)) throw error;
    throw new HttpError(429, error.message, CODES[error.kind], null, {
      'retry-after': String(Math.ceil(error.retryAfterMs / 1000)),
      ...rateLimitHeaders(error.state),
    });
  }
  // Set on the reply so they survive the proxy's hijack (it copies the reply's headers).
  reply.headers(rateLimitHeaders(request.limitAdmission.state));
  // A request that ends without being recorded (a route failing before it forwards) must not
  // hold its concurrency slot forever: release it, keeping the reservation, a while after.
  const admission = request.limitAdmission;
  reply.raw.once('close', () => {
    setTimeout(() => {
      if (request.limitAdmission !== admission) return;
      request.limitAdmission = undefined;
      admission.settle(null).catch(() => {});
    }, ORPHAN_SETTLE_MS).unref();
  });
}

/**
 * Settles a finished request's reservation: real usage when the node or provider reported it,
 * a refund when it failed without tokens, the reservation kept when usage is unknown.
 */
export function settleFinished(
  request: FastifyRequest,
  finished: { success: boolean; promptTokens?: number; completionTokens?: number },
): Promise<void> {
  const admission = request.limitAdmission;
  if (!admission) return Promise.resolve();
  request.limitAdmission = undefined;
  const known = finished.promptTokens !== undefined || finished.completionTokens !== undefined;
  const used = known
    ? (finished.promptTokens ?? 0) + (finished.completionTokens ?? 0)
    : finished.success
      ? null
      : 0;
  return admission.settle(used);
}
