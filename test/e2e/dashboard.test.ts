/**
 * The dashboard in a real browser (Debian Chromium via playwright-core) against a real router
 * and a real llama.cpp node: the whole operator flow from a wrong password to a viewer who sees
 * no admin controls. Any uncaught page error fails the test.
 */
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, waitUntil } from '../support/processes.js';
import {
  ADMIN_PASSWORD,
  type Browser,
  type DashboardFleet,
  HUB_MODEL,
  LOCAL_MODEL,
  launchBrowser,
  signIn,
  startDashboardFleet,
} from './support/dashboard-fleet.js';

let fleet: DashboardFleet;
let browser: Browser;
let page: Page;
let base: string;
const VIEWER = { username: 'viewer-e2e', password: 'viewer-password-1' };

const nav = (name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

beforeAll(async () => {
  fleet = await startDashboardFleet();
  base = fleet.router.url;
  browser = await launchBrowser();
  page = browser.page;
}, 180_000);

afterEach(() => {
  expect(browser.pageErrors.map((e) => e.stack ?? e.message)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stopAll();
  await fleet?.hub.close();
});

describe('dashboard end to end', () => {
  it('refuses a wrong password, then signs in and shows the node on the overview', async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid username or password');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nodes = (await fleet.admin('GET', '/v0/nodes')).body;
    await page.getByRole('link', { name: nodes[0].machine_name }).first().waitFor();
    await expect.poll(() => page.locator('main').textContent()).toContain('1 online');
    // The session is an HttpOnly cookie: page scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('llm_router_session');
  });

  it('opens a node: chart, logs, and tags that are saved on the router', async () => {
    await nav('Nodes').click();
    await page.getByRole('heading', { name: 'Nodes' }).waitFor();
    const node = (await fleet.admin('GET', '/v0/nodes')).body[0];
    await page.getByRole('button', { name: node.machine_name }).click();
    const dialog = page.getByRole('dialog');
    await dialog
      .getByRole('img', { name: /CPU, memory and GPU use/ })
      .locator('canvas')
      .first()
      .waitFor();
    await expect
      .poll(async () => (await dialog.getByRole('log').locator('div').count()) > 0, { timeout: 20_000 })
      .toBe(true);
    await dialog.getByLabel('Tags').fill('e2e, fast-lane');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await waitUntil(
      async () => (await fleet.admin('GET', '/v0/nodes')).body[0].tags.join(',') === 'e2e,fast-lane',
      10_000,
      'the tags to be saved',
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('#e2e #fast-lane').waitFor();
  });

  it('creates an API key in the UI that works with the openai SDK', async () => {
    await nav('API keys').click();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('e2e-app');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const key = (await dialog.getByTestId('new-api-key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^sk_/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page
      .getByRole('cell', { name: /e2e-app/ })
      .first()
      .waitFor();
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: LOCAL_MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
    });
    expect(reply.choices[0].message.content?.length).toBeGreaterThan(0);
  });

  it('creates a viewer and an invitation', async () => {
    await nav('Users').click();
    await page.getByRole('button', { name: 'Create user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill(VIEWER.username);
    await dialog.getByLabel('Password').fill(VIEWER.password);
    await dialog.getByLabel('Role').selectOption('viewer');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: VIEWER.username, exact: true }).waitFor();
    // The last-admin rule's error is shown, not swallowed.
    await page.getByRole('button', { name: 'Delete admin' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
    await expect.poll(() => page.getByRole('dialog').getByRole('alert').textContent()).toMatch(/admin/i);
    await page.keyboard.press('Escape');

    await nav('Invitations').click();
    await page.getByRole('button', { name: 'Create invitation' }).click();
    const code = (await page.getByTestId('new-invitation-code').textContent())?.trim() ?? '';
    expect(code).toMatch(/^inv_/);
    const list = (await fleet.admin('GET', '/v0/invitations')).body.invitations;
    expect(list.some((i: { status: string }) => i.status === 'active')).toBe(true);
  });

  it('streams a reply in the playground, and Stop aborts one', async () => {
    await nav('Playground').click();
    await page.getByLabel('Model').selectOption(LOCAL_MODEL);
    await page.getByLabel('Max tokens').fill('24');
    await page.getByLabel('Message').fill('Tell me a story');
    await page.getByRole('button', { name: 'Send' }).click();
    const reply = page.getByTestId('assistant-message').last();
    await page.getByTestId('reply-stats').first().waitFor({ timeout: 30_000 });
    expect((await reply.textContent())?.trim().length).toBeGreaterThan(0);
    expect(await page.getByTestId('reply-stats').first().textContent()).toMatch(/TTFT \d/);

    // A long reply, stopped while it streams.
    await page.getByLabel('Max tokens').fill('100000');
    await page.getByLabel('Message').fill('Tell me a very long story');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('stopped').waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    // The conversation is kept in localStorage across reloads.
    await page.reload();
    await page.getByRole('button', { name: 'Tell me a story', exact: true }).waitFor();
  });

  it('shows the request and its body in history', async () => {
    await nav('History').click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page
      .getByRole('cell', { name: new RegExp(LOCAL_MODEL) })
      .first()
      .waitFor();
    await page.getByRole('cell').getByRole('button').first().click();
    const dialog = page.getByRole('dialog');
    await expect
      .poll(() => dialog.getByLabel('Request body', { exact: true }).textContent())
      .toContain('"messages"');
    await page.keyboard.press('Escape');
  });

  it('shows cache hit rates, routing decisions and the admission queue on the Routing view, live', async () => {
    const key = (
      await fleet.admin('POST', '/v0/api-keys', { name: 'routing-e2e', scopes: ['api:inference'] })
    ).body.key as string;
    const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });
    const messages = [
      { role: 'system' as const, content: 'You tell short stories about a cat called Tom and his garden.' },
      { role: 'user' as const, content: 'Once upon a time' },
    ];
    await client.chat.completions.create({ model: LOCAL_MODEL, messages, max_tokens: 8 });
    await nav('Routing').click();
    await page.getByRole('heading', { name: 'Routing', exact: true }).waitFor();
    await page.getByText('policy: auto').waitFor();
    await page.getByRole('img', { name: /Prompt tokens the nodes evaluated/ }).waitFor();
    const node = (await fleet.admin('GET', '/v0/nodes')).body[0];
    const hitRates = page.getByRole('region', { name: 'Hit rate per model and node' });
    await hitRates.getByRole('rowheader', { name: new RegExp(LOCAL_MODEL) }).waitFor();
    await hitRates.getByRole('cell', { name: node.machine_name }).waitFor();
    const decisions = page.getByRole('region', { name: 'Latest routing decisions' }).getByRole('row');
    const before = await decisions.count();
    expect(before).toBeGreaterThan(1);
    await page.getByRole('region', { name: 'Admission queue' }).getByText('Rejected: queue full').waitFor();

    // The same prompt again, streamed without include_usage: a new decision row appears on its
    // own (the view polls), and the node's cached tokens show in it (the node's usage trailer).
    const stream = await client.chat.completions.create({
      model: LOCAL_MODEL,
      messages,
      max_tokens: 8,
      stream: true,
    });
    for await (const _ of stream);
    await expect.poll(() => decisions.count(), { timeout: 15_000 }).toBeGreaterThan(before);
    // Columns: when, model, node, matched prefix, cached / prompt tokens, ...
    const cached = await decisions.nth(1).getByRole('cell').nth(4).textContent();
    expect(cached?.trim()).toMatch(/^[1-9]\d* \/ \d+$/);
  });

  it('registers a model from the (fake) hub and shows its progress bar reach registered', async () => {
    fleet.hub.stall('stories260K.gguf', 64 * 1024);
    await nav('Models').click();
    await page.getByRole('button', { name: 'Register model' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Repository or URL').fill(HUB_MODEL);
    await dialog.getByRole('button', { name: 'Register' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator(`[data-model="${HUB_MODEL}"]`);
    const bar = row.getByRole('progressbar');
    await expect
      .poll(async () => Number(await bar.getAttribute('value')), { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(await row.textContent()).toMatch(/caching|pending/);
    fleet.hub.unstall('stories260K.gguf');
    await row.getByText('registered', { exact: true }).waitFor({ timeout: 60_000 });
    expect(await bar.count()).toBe(0);
  });

  it('shows the router log, remembers the theme, and logs out for real', async () => {
    await nav('Logs').click();
    await expect
      .poll(() => page.getByRole('log', { name: 'Router log' }).textContent())
      .toContain('router listening');

    const dark = await page.evaluate(() => document.documentElement.classList.contains('dark'));
    await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(!dark);
    await page.reload();
    await page.getByRole('heading', { name: 'Logs' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(!dark);

    await page.getByRole('button', { name: /User menu/ }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // The old session cookie no longer opens anything.
    await page.goto(`${base}/dashboard/nodes`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/v0/auth/me')).status);
    expect(status).toBe(401);
  });

  it('shows a viewer the read-only views with no admin controls', async () => {
    await signIn(page, base, VIEWER.username, VIEWER.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Overview', 'Nodes', 'Models', 'Routing', 'Playground']);
    await nav('Nodes').click();
    const node = (await fleet.admin('GET', '/v0/nodes')).body[0];
    await page.getByRole('button', { name: node.machine_name }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('img', { name: /CPU, memory and GPU use/ }).waitFor();
    for (const name of ['Delete', 'Disconnect', 'Save', 'Approve']) {
      expect(await dialog.getByRole('button', { name, exact: true }).count()).toBe(0);
    }
    await page.keyboard.press('Escape');
    // Routing is read-only data: a viewer sees it as an admin does.
    await nav('Routing').click();
    await page
      .getByRole('region', { name: 'Hit rate per model and node' })
      .getByRole('rowheader', { name: new RegExp(LOCAL_MODEL) })
      .waitFor();
    await nav('Models').click();
    await page.locator(`[data-model="${HUB_MODEL}"]`).waitFor();
    expect(await page.getByRole('button', { name: 'Register model' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
    // An admin page opened by URL is refused in the UI, and by the router.
    await page.goto(`${base}/dashboard/users`);
    await page.getByText('This page needs an admin account.').waitFor();
    expect(await page.evaluate(async () => (await fetch('/v0/users')).status)).toBe(403);
  });

  it('fits a 390 px phone without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [
      '/dashboard',
      '/dashboard/nodes',
      '/dashboard/models',
      '/dashboard/routing',
      '/playground',
    ]) {
      await page.goto(`${base}${path}`);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
