/**
 * The rig for the format tests: a real router (in-process, fresh SQLite or PostgreSQL), a real
 * llm-node running stories260K through llama.cpp (1 thread) registered with it, and a fake
 * cloud upstream standing in for Anthropic, OpenAI and Google. Keys for two clients.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNodeConfig } from '../../../node/src/config/config.js';
import { startNode } from '../../../node/src/main.js';
import { FakeUpstream } from '../cloud/support/fake-upstream.js';
import { startTestRouter, type TestRouter } from '../support/router-harness.js';

const modelPath = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../../shared/models/stories260K.gguf',
);

export interface FormatsRig {
  router: TestRouter;
  upstream: FakeUpstream;
  /** An `api:inference` key, and a second one (another client). */
  key: string;
  otherKey: string;
  admin: Record<string, string>;
  close(): Promise<void>;
}

/** `node: false` leaves out the llm-node (cloud-only tests). */
export async function startFormatsRig(options: { node?: boolean } = {}): Promise<FormatsRig> {
  const upstream = await FakeUpstream.start();
  const router = await startTestRouter({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    ANTHROPIC_API_KEY: 'provider-anthropic-key',
    ANTHROPIC_API_BASE_URL: upstream.url,
    OPENAI_API_KEY: 'provider-openai-key',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    GOOGLE_API_KEY: 'provider-google-key',
    GOOGLE_API_BASE_URL: upstream.url,
  });
  const dir = mkdtempSync(join(tmpdir(), 'llm-router-formats-'));
  const keys = async () => ({
    key: await router.createKey(['api:inference']),
    otherKey: await router.createKey(['api:inference']),
    admin: { authorization: `Bearer ${await router.adminToken()}` },
  });
  if (options.node === false) {
    return {
      router,
      upstream,
      ...(await keys()),
      async close() {
        await router.stop();
        await upstream.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  mkdirSync(join(dir, 'models'));
  copyFileSync(modelPath, join(dir, 'models', 'stories260K.gguf'));
  const nodeKey = await router.createKey(['node:register']);
  const node = await startNode({
    ...loadNodeConfig({
      LLM_ROUTER_URL: router.url,
      LLM_NODE_API_KEY: nodeKey,
      LLM_NODE_PORT: '0',
      LLM_NODE_BIND_ADDRESS: '127.0.0.1',
      LLM_NODE_IP: '127.0.0.1',
      LLM_NODE_MODELS_DIR: join(dir, 'models'),
      LLM_NODE_STATE_DIR: join(dir, 'node'),
      LLM_NODE_LOG_DIR: join(dir, 'node-logs'),
      LLM_NODE_THREADS: '1',
      LLM_NODE_HEARTBEAT_SECS: '1',
      LLM_ALLOW_NO_GPU: 'true',
      LLM_NODE_LOG_LEVEL: 'warn',
    }),
    logToStdout: false,
  });
  const deadline = Date.now() + 60_000;
  while (router.registry.candidatesFor('stories260K').length === 0) {
    if (Date.now() > deadline) throw new Error('the node never got stories260K ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    router,
    upstream,
    ...(await keys()),
    async close() {
      await node.close();
      await router.stop();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** History rows of one request type, newest first (after flushing the recorder). */
// biome-ignore lint/suspicious/noExplicitAny: tests read history rows field by field.
export async function historyRows(rig: FormatsRig, model: string): Promise<any[]> {
  await rig.router.recorder.flush();
  const res = await rig.router.call(
    'GET',
    `/v0/dashboard/request-responses?model=${encodeURIComponent(model)}`,
    {
      headers: rig.admin,
    },
  );
  return res.body.records;
}
