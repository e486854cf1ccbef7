/**
 * The MCP resources: the router's OpenAPI document (fetched live from `/openapi.json`, so it
 * always matches the running router) and short task guides shipped with this package.
 */
import { readFileSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpConfig } from './config.js';

export const GUIDES = {
  inference: 'Inference: chat, completions, embeddings, cloud prefixes, errors',
  'node-mgmt': 'Nodes: states, approve, disconnect, delete, settings, logs, adding a node',
  'model-mgmt': 'Models: register from Hugging Face, lifecycle, status, delete',
  'user-mgmt': 'Users, invitations, API keys and sessions',
  dashboard: 'Stats, request history, metrics and log tails',
} as const;

/** Guides live in ../guides beside src/ and dist/. */
const guideText = (name: string) => readFileSync(new URL(`../guides/${name}.md`, import.meta.url), 'utf8');

export function registerResources(server: McpServer, config: McpConfig): void {
  server.registerResource(
    'openapi',
    'llm-router://api/openapi',
    {
      title: 'LLM Router OpenAPI document',
      description: `The OpenAPI 3.1 document of the router at ${config.routerUrl}${config.openApiPath ? ` (from ${config.openApiPath})` : ''}: every /v0 and /v1 route, its inputs and the credential it needs.`,
      mimeType: 'application/json',
    },
    async (uri) => {
      if (config.openApiPath) {
        try {
          const text = readFileSync(config.openApiPath, 'utf8');
          return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
        } catch (error) {
          throw new Error(
            `Could not read LLM_ROUTER_OPENAPI_PATH (${config.openApiPath}): ${(error as Error).message}. Unset it to fetch the router's live /openapi.json.`,
          );
        }
      }
      let text: string;
      try {
        const response = await fetch(`${config.routerUrl}/openapi.json`, {
          signal: AbortSignal.timeout(15_000),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        text = JSON.stringify(await response.json(), null, 2);
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new Error(
          `Could not fetch ${config.routerUrl}/openapi.json (${cause}). Is the router running? Set LLM_ROUTER_URL if it listens elsewhere.`,
        );
      }
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text }] };
    },
  );
  for (const [name, description] of Object.entries(GUIDES)) {
    server.registerResource(
      `guide-${name}`,
      `llm-router://guide/${name}`,
      { title: `Guide: ${name}`, description, mimeType: 'text/markdown' },
      async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: guideText(name) }] }),
    );
  }
}
