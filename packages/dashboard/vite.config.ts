// Builds the dashboard SPA into the router package (packages/router/public), which serves it
// at /dashboard and /playground. Heavy views are lazy chunks so the first load stays small.
import { fileURLToPath } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/dashboard/',
  plugins: [react(), tailwindcss()],
  // `npm run dev -w @llm-router/dashboard` against a router on :8080 (LLM_ROUTER_DEV_URL to change).
  server: {
    proxy: Object.fromEntries(
      ['/v0', '/v1'].map((path) => [path, process.env.LLM_ROUTER_DEV_URL ?? 'http://127.0.0.1:8080']),
    ),
  },
  build: {
    outDir: fileURLToPath(new URL('../router/public', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 350,
  },
});
