import { defineConfig } from 'vitest/config';

// The router's suite runs a second time against PostgreSQL when scripts/test.sh started one.
const postgres = process.env.LLM_ROUTER_TEST_POSTGRES_URL;

export default defineConfig({
  test: {
    // Integration tests start real routers, nodes and llama.cpp; on a 2-core machine they are
    // more reliable one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/plain-summary-reporter.js'],
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'] },
      },
      ...(postgres
        ? [
            {
              extends: true,
              test: {
                name: 'postgres',
                include: ['packages/router/test/**/*.test.ts'],
                env: { LLM_ROUTER_TEST_DATABASE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
