/**
 * What the dashboard's browser tests and its screenshot script share: a real router (built
 * CLI, with the built dashboard) and a real llama.cpp node on the shared test model, a local
 * fake Hugging Face hub for model registration, and a fresh Debian Chromium driven by
 * playwright-core that records every uncaught page error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { FakeHub } from '../../../packages/router/test/models/support/fake-hub.js';
import {
  modelsDir,
  type RouterProcess,
  type RunningProcess,
  repoRoot,
  sharedModel,
  startNodeProcess,
  startRouterProcess,
  tempDir,
  waitUntil,
} from '../../support/processes.js';

export const ADMIN_PASSWORD = 'e2e-admin-password';
export const HUB_MODEL = 'ggml-org/tiny-llamas';
export const LOCAL_MODEL = 'stories260K';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface DashboardFleet {
  router: RouterProcess;
  node: RunningProcess;
  hub: FakeHub;
  adminKey: string;
  /** GET/POST against the router as an `admin:*` key. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export function assertDashboardBuilt(): void {
  if (!existsSync(join(repoRoot, 'packages/router/public/index.html'))) {
    throw new Error(
      'The dashboard is not built: run `make build` (it builds packages/dashboard into the router).',
    );
  }
}

/** `routerEnv` adds to the router's environment (the screenshots route with `cache_aware`). */
export async function startDashboardFleet(routerEnv: Record<string, string> = {}): Promise<DashboardFleet> {
  assertDashboardBuilt();
  const hub = await FakeHub.start();
  hub.addRepo({
    id: HUB_MODEL,
    files: [
      { path: 'README.md', content: Buffer.from('# tiny llamas\n') },
      { path: 'stories260K.gguf', content: readFileSync(sharedModel) },
    ],
  });
  const router = await startRouterProcess({
    LLM_ROUTER_ALLOW_NO_GPU: 'true',
    HF_BASE_URL: hub.url,
    ...routerEnv,
  });
  const adminKey = await router.createKey('admin:*');
  const nodeKey = await router.createKey('node:register');
  const node = await startNodeProcess({
    routerUrl: router.url,
    apiKey: nodeKey,
    models: modelsDir([LOCAL_MODEL]),
  });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${router.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  await waitUntil(
    async () =>
      ((await admin('GET', '/v0/nodes')).body as Array<{ status: string }>).some(
        (n) => n.status === 'online',
      ),
    60_000,
    'the node to come online',
  );
  return { router, node, hub, adminKey, admin };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in any page so far. */
  pageErrors: Error[];
  close(): Promise<void>;
}

export async function launchBrowser(width = 1280, height = 900): Promise<Browser> {
  const context = await chromium.launchPersistentContext(tempDir('chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width, height },
    acceptDownloads: true,
  });
  const pageErrors: Error[] = [];
  const watch = (page: Page) => page.on('pageerror', (error) => pageErrors.push(error));
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  context.setDefaultTimeout(15_000);
  return { context, page, pageErrors, close: () => context.close() };
}

/** Signs in through the login page. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
