/**
 * Screenshots of every dashboard view (admin and viewer, light and dark, 1280 px and 390 px)
 * against a real router and node, for looking at the UI and for docs/dashboard/.
 *   npx tsx scripts/dashboard-screenshots.ts [out-dir]     (after `make build`)
 * With COMMIT_SET=1 it also writes the small set committed to docs/dashboard/ (one per view).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import {
  ADMIN_PASSWORD,
  HUB_MODEL,
  LOCAL_MODEL,
  launchBrowser,
  signIn,
  startDashboardFleet,
} from '../test/e2e/support/dashboard-fleet.js';
import { stopAll, waitUntil } from '../test/support/processes.js';

const out = resolve(process.argv[2] ?? '/tmp/dashboard-shots');
const docs = resolve(import.meta.dirname, '../docs/dashboard');
mkdirSync(out, { recursive: true });

// cache_aware, so the Routing view shows matched prefixes and the prefix index.
const fleet = await startDashboardFleet({ LLM_ROUTER_LOAD_BALANCER_MODE: 'cache_aware' });
const base = fleet.router.url;
try {
  // Something to look at: traffic, a registered model, keys, a viewer, an invitation.
  const key = (await fleet.admin('POST', '/v0/api-keys', { name: 'web-app', scopes: ['api:inference'] })).body
    .key;
  await fleet.admin('POST', '/v0/api-keys', { name: 'ci-nodes', scopes: ['node:register'] });
  await fleet.admin('POST', '/v0/users', { username: 'viewer', password: 'viewer-password', role: 'viewer' });
  await fleet.admin('POST', '/v0/invitations', {});
  const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
  for (let i = 0; i < 6; i++) {
    await client.chat.completions.create({
      model: LOCAL_MODEL,
      messages: [{ role: 'user', content: `Once upon a time ${i}` }],
      max_tokens: 16,
      stream: i % 2 === 0,
    });
  }
  // Conversations that come back: the node serves their follow-ups from its KV cache.
  for (const topic of ['the sea', 'a dragon']) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: `You tell short bedtime stories about ${topic} for small children.` },
      { role: 'user', content: `Tell me about ${topic}.` },
    ];
    for (let turn = 0; turn < 3; turn++) {
      const reply = await client.chat.completions.create({ model: LOCAL_MODEL, messages, max_tokens: 12 });
      messages.push(
        { role: 'assistant', content: reply.choices[0]?.message.content ?? '' },
        { role: 'user', content: 'And then?' },
      );
    }
  }
  await client.chat.completions
    .create({ model: 'missing-model', messages: [{ role: 'user', content: 'x' }] })
    .catch(() => {});
  const registered = await fleet.admin('POST', '/v0/models/register', {
    repo: HUB_MODEL,
    gguf_policy: 'quality',
  });
  if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered.body)}`);
  await waitUntil(
    async () => {
      const m = await fleet.admin('GET', `/v0/models/${HUB_MODEL}`);
      return m.body?.lifecycle_status === 'registered';
    },
    60_000,
    'model registered',
  );
  const nodeId = (await fleet.admin('GET', '/v0/nodes')).body[0].id;
  await fleet.admin('PUT', `/v0/nodes/${nodeId}/settings`, {
    custom_name: 'gpu-box-1',
    tags: ['rack-a', 'llama'],
  });
  await new Promise((r) => setTimeout(r, 4000)); // a few heartbeats for the charts

  const views: Array<{
    name: string;
    path: string;
    admin?: boolean;
    open?: (p: import('playwright-core').Page) => Promise<void>;
  }> = [
    { name: 'overview', path: '/dashboard' },
    { name: 'nodes', path: '/dashboard/nodes' },
    { name: 'node-detail', path: `/dashboard/nodes/${nodeId}` },
    { name: 'models', path: '/dashboard/models' },
    { name: 'routing', path: '/dashboard/routing' },
    {
      name: 'models-register',
      path: '/dashboard/models',
      admin: true,
      open: async (p) => {
        await p.getByRole('button', { name: 'Register model' }).click();
        await p.getByLabel('Repository or URL').fill(HUB_MODEL);
        await p.getByRole('button', { name: 'Find GGUF' }).click();
        await p.waitForTimeout(800);
      },
    },
    { name: 'history', path: '/dashboard/history', admin: true },
    {
      name: 'history-detail',
      path: '/dashboard/history',
      admin: true,
      open: async (p) => {
        await p.getByRole('cell').getByRole('button').first().click();
        await p.getByLabel('Request body', { exact: true }).waitFor();
      },
    },
    { name: 'logs', path: '/dashboard/logs', admin: true },
    { name: 'api-keys', path: '/dashboard/api-keys', admin: true },
    { name: 'users', path: '/dashboard/users', admin: true },
    { name: 'invitations', path: '/dashboard/invitations', admin: true },
    {
      name: 'playground',
      path: '/playground',
      open: async (p) => {
        await p.getByLabel('Model').selectOption(LOCAL_MODEL);
        await p.getByLabel('Max tokens').fill('48');
        await p.getByLabel('Message').fill('Tell me a story about a dragon');
        await p.getByRole('button', { name: 'Send' }).click();
        await p.getByTestId('reply-stats').first().waitFor({ timeout: 30_000 });
      },
    },
  ];

  for (const width of [1280, 390]) {
    for (const theme of ['light', 'dark']) {
      const browser = await launchBrowser(width, width > 500 ? 860 : 844);
      await browser.context.addInitScript((t) => localStorage.setItem('llm-router.theme', t), theme);
      const { page } = browser;
      const shot = async (name: string) => {
        await page.waitForTimeout(600);
        const file = join(out, `${name}-${width}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: width < 500 });
        // The committed set: admin views, the sign-in pages and one viewer picture (the overview).
        const committed = !name.startsWith('viewer-') || name === 'viewer-overview';
        if (process.env.COMMIT_SET && committed && width === 1280 && theme === 'light') {
          mkdirSync(docs, { recursive: true });
          // The sign-in pages' full-screen gradient compresses badly: keep only the card.
          const card = ['login', 'register'].includes(name)
            ? { x: 400, y: 150, width: 480, height: 560 }
            : undefined;
          await page.screenshot({ path: join(docs, `${name}.png`), clip: card });
        }
      };
      await page.goto(`${base}/dashboard/login`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await shot('login');
      await page.goto(`${base}/dashboard/register`);
      await page.getByRole('button', { name: 'Create account' }).waitFor();
      await shot('register');
      for (const role of ['admin', 'viewer']) {
        await signIn(page, base, role, role === 'admin' ? ADMIN_PASSWORD : 'viewer-password');
        for (const view of views) {
          if (view.admin && role !== 'admin') continue;
          await page.goto(`${base}${view.path}`);
          await page.getByRole('navigation', { name: 'Main' }).waitFor();
          await page.waitForLoadState('networkidle').catch(() => {});
          if (view.open) await view.open(page);
          await shot(role === 'admin' ? view.name : `viewer-${view.name}`);
        }
        await page.getByRole('button', { name: /User menu/ }).click();
        await page.getByRole('menuitem', { name: 'Log out' }).click();
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
      }
      if (browser.pageErrors.length)
        console.error(
          'page errors:',
          browser.pageErrors.map((e) => e.message),
        );
      await browser.close();
    }
  }
  console.log(`screenshots in ${out}`);
} finally {
  await stopAll();
  await fleet.hub.close();
}
