/** Shared set-up for the model tests: a fake hub, a router pointed at it, and polling helpers. */
import { syntheticGguf } from '../../../src/models/gguf.js';
import { type StartOptions, startTestRouter, type TestRouter } from '../../support/router-harness.js';
import { FakeHub, type FakeRepo, storiesBytes } from './fake-hub.js';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
type Json = any;

export const STORIES_REPO = 'ggml-org/tiny-llamas';

/** The real test model as the hub publishes it: `ggml-org/tiny-llamas` → `stories260K.gguf`. */
export function storiesRepo(): FakeRepo {
  return {
    id: STORIES_REPO,
    files: [
      { path: 'README.md', content: Buffer.from('# tiny llamas\n') },
      { path: 'stories260K.gguf', content: storiesBytes() },
    ],
  };
}

/** A small valid GGUF whose bytes are unique to `label` (and big enough to tell sizes apart). */
export const fakeGguf = (label: string, bytes = 64) => syntheticGguf(label.padEnd(bytes, '.'));

export interface ModelTestEnv {
  hub: FakeHub;
  router: TestRouter;
  admin: Record<string, string>;
  node: Record<string, string>;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json; headers: Headers }>;
}

export async function startModelEnv(
  env: Record<string, string> = {},
  hub?: FakeHub,
  options: StartOptions = {},
): Promise<ModelTestEnv> {
  const fakeHub = hub ?? (await FakeHub.start());
  const router = await startTestRouter(
    { HF_BASE_URL: fakeHub.url, LLM_ROUTER_MODEL_RETRY_BACKOFF_MS: '10', ...env },
    options,
  );
  const admin = { authorization: `Bearer ${await router.createKey(['admin:*'])}` };
  const node = { authorization: `Bearer ${await router.createKey(['node:register'])}` };
  return {
    hub: fakeHub,
    router,
    admin,
    node,
    call: (method, path, body, headers = admin) =>
      router.call(method, path, { headers, ...(body === undefined ? {} : { body }) }),
  };
}

/** Polls `GET /v0/models/<id>` until `done(model)` holds; fails with the last state after `timeoutMs`. */
export async function waitForModel(
  env: ModelTestEnv,
  id: string,
  done: (model: Json) => boolean,
  timeoutMs = 20_000,
): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  let last: Json;
  for (;;) {
    const res = await env.call('GET', `/v0/models/${encodeURIComponent(id)}`, undefined, env.node);
    last = res.body;
    if (res.status === 200 && done(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`model ${id} never reached the state; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const isSettled = (m: Json) => m.lifecycle_status === 'registered' || m.lifecycle_status === 'error';

/** Polls a condition (no timing assertions: only a generous deadline for a hung test). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
