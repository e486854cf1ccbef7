/** Admin tools: create_api_key (the key is shown once, in this result). */
import { API_KEY_SCOPES } from '@llm-router/protocol';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { RouterClient } from '../router-client.js';
import { guarded, ok } from './result.js';

export function registerAdminTools(server: McpServer, router: RouterClient): void {
  server.registerTool(
    'create_api_key',
    {
      title: 'Create an API key',
      description:
        'Create a router API key (admin; uses LLM_ROUTER_JWT_TOKEN when set). Scopes: "api:inference" for /v1 clients, "node:register" for nodes, "admin:*" for everything. The plaintext key (sk_…) is returned only this once: hand it to the user, it cannot be read again.',
      inputSchema: {
        name: z.string().min(1).max(255),
        scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
        expires_at: z.string().optional().describe('ISO-8601 time with offset, e.g. 2027-01-01T00:00:00Z'),
      },
    },
    (input) =>
      guarded(async () => {
        const { body } = await router.call('POST', '/v0/api-keys', { body: input });
        return ok(
          `Created API key '${body.name}' (id ${body.id}, scopes ${body.scopes.join(', ')}${
            body.expires_at ? `, expires ${body.expires_at}` : ''
          }).\nKey (shown once): ${body.key}`,
          body,
        );
      }),
  );
}
