/**
 * The dashboard's first load: bytes transferred (JavaScript and everything) and time to
 * interactive of /dashboard for a signed-in admin, in Debian Chromium via playwright-core,
 * against the real router process (built CLI, SQLite, compression on). Cold loads use a fresh browser profile each time (empty cache); warm
 * loads reuse the profile, so the immutable hashed assets come from the cache.
 * "Interactive" = the overview's numbers are rendered and the navigation is clickable,
 * read from performance.now() (ms since navigation start).
 *
 *   make build && npx tsx bench/dashboard-load.ts        # 7 cold + 7 warm loads
 *   BENCH_RUNS=15 npx tsx bench/dashboard-load.ts
 */
import { chromium } from 'playwright-core';
import { assertDashboardBuilt, CHROMIUM, CHROMIUM_FLAGS } from '../test/e2e/support/dashboard-fleet.js';
import { startRouterProcess, stopAll, tempDir } from '../test/support/processes.js';
import { percentile } from './support/instant-node.js';

const runs = Number(process.env.BENCH_RUNS ?? 7);

interface Load {
  jsTransferred: number;
  jsDecoded: number;
  allTransferred: number;
  requests: number;
  ttiMs: number;
}

assertDashboardBuilt();
const router = await startRouterProcess({ LLM_ROUTER_ALLOW_NO_GPU: 'true' });
try {
  const login = await fetch(`${router.url}/v0/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'e2e-admin-password' }),
  });
  const cookies = login.headers.getSetCookie().map((c) => {
    const [pair] = c.split(';');
    const [name, value] = pair.split('=');
    return { name, value, url: router.url };
  });

  const measure = async (profile: string): Promise<Load> => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    await context.addCookies(cookies);
    const page = context.pages()[0] ?? (await context.newPage());
    const sizes: Array<Promise<{ js: boolean; encoded: number; decoded: number }>> = [];
    page.on('requestfinished', (request) => {
      sizes.push(
        (async () => {
          const response = await request.response();
          const s = await request.sizes();
          const decoded = (await response?.body().catch(() => Buffer.alloc(0)))?.length ?? 0;
          const js = request.resourceType() === 'script';
          return { js, encoded: s.responseBodySize + s.responseHeadersSize, decoded };
        })(),
      );
    });
    await page.goto(`${router.url}/dashboard`);
    await page.getByText('Total requests').waitFor();
    await page.getByRole('link', { name: 'Nodes', exact: true }).waitFor({ state: 'visible' });
    const ttiMs = await page.evaluate(() => performance.now());
    await page.waitForLoadState('networkidle');
    const all = await Promise.all(sizes);
    await context.close();
    const js = all.filter((s) => s.js);
    return {
      jsTransferred: js.reduce((n, s) => n + s.encoded, 0),
      jsDecoded: js.reduce((n, s) => n + s.decoded, 0),
      allTransferred: all.reduce((n, s) => n + s.encoded, 0),
      requests: all.length,
      ttiMs,
    };
  };

  const cold: Load[] = [];
  const warm: Load[] = [];
  const warmProfile = tempDir('bench-warm');
  await measure(warmProfile); // fills the warm profile's cache
  for (let i = 0; i < runs; i++) {
    cold.push(await measure(tempDir('bench-cold')));
    warm.push(await measure(warmProfile));
  }
  const kb = (n: number) => (n / 1024).toFixed(1);
  const row = (name: string, loads: Load[]) => {
    const tti = loads.map((l) => l.ttiMs).sort((a, b) => a - b);
    const last = loads[loads.length - 1];
    return `| ${name} | ${kb(last.jsTransferred)} | ${kb(last.jsDecoded)} | ${kb(last.allTransferred)} | ${last.requests} | ${percentile(tti, 50).toFixed(0)} | ${tti[0].toFixed(0)}–${tti[tti.length - 1].toFixed(0)} |`;
  };
  console.log(`/dashboard first load, signed-in admin, ${runs} runs each (KB = 1024 bytes)\n`);
  console.log(
    '| load | JS transferred KB | JS decoded KB | all transferred KB | requests | TTI p50 ms | TTI min–max ms |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(row('cold (empty cache)', cold));
  console.log(row('warm (cached assets)', warm));
} finally {
  await stopAll();
}
