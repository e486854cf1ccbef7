/**
 * Builds the MCP server: typed tools over the router's API, `execute_curl` for parity with the
 * upstream, and the OpenAPI and guide resources. `cli.ts` connects it to stdio.
 */
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpConfig } from './config.js';
import { registerResources } from './resources.js';
import { RouterClient } from './router-client.js';
import { registerAdminTools } from './tools/admin.js';
import { registerCurlTool } from './tools/curl.js';
import { registerFleetTools } from './tools/fleet.js';
import { registerInferenceTools } from './tools/inference.js';
import { registerModelTools } from './tools/models.js';

export { loadConfig, type McpConfig } from './config.js';

export const packageVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function createMcpServer(config: McpConfig): McpServer {
  const server = new McpServer(
    { name: 'llm-router', version: packageVersion },
    {
      instructions:
        'Tools to operate an LLM Router (an OpenAI-compatible router in front of llama.cpp nodes and cloud providers). ' +
        'Prefer the typed tools (list_models, chat, list_nodes, register_model, …); use execute_curl for other routes, ' +
        'reading llm-router://api/openapi for them. Task guides: llm-router://guide/{inference,node-mgmt,model-mgmt,user-mgmt,dashboard}.',
    },
  );
  const router = new RouterClient(config);
  registerFleetTools(server, router);
  registerModelTools(server, router);
  registerInferenceTools(server, router);
  registerAdminTools(server, router);
  registerCurlTool(server, config);
  registerResources(server, config);
  return server;
}
