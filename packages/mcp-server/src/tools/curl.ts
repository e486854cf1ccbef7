/** The upstream's `execute_curl` tool, kept for parity (rules in ../curl-policy.ts). */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { McpConfig } from '../config.js';
import { executeCurl } from '../curl.js';
import { guarded, json } from './result.js';

export function registerCurlTool(server: McpServer, config: McpConfig): void {
  server.registerTool(
    'execute_curl',
    {
      title: 'Run a curl command against the router',
      description: `Run one curl command against the router (${config.routerUrl}) or localhost, for anything the typed tools do not cover; read the llm-router://api/openapi resource for the routes. Rules: start with "curl "; full http(s) URLs on ${config.routerHost} or localhost only; no shell metacharacters (; & | \` $( \${ < > or escaped newlines), so put query strings with a single parameter or use the typed tools; options that write files, read files/config, set credentials or follow redirects (-o -O -K -u -L -w -F --netrc* --trace* --proto* --libcurl -q …) are refused. Credentials are added for router URLs (auto_auth): the JWT for /v0/users, /v0/api-keys, /v0/invitations and /v0/auth/me, the API key otherwise. Returns {success, status_code, headers, body, error, duration_ms, executed_command} with secrets masked.`,
      inputSchema: {
        command: z.string().min(1).max(100_000).describe('e.g. curl http://localhost:8080/v1/models'),
        auto_auth: z.boolean().default(true).describe('Add the configured credential header'),
        timeout: z.number().int().min(1).max(300).default(30).describe('Seconds, 1..300'),
      },
    },
    (input) =>
      guarded(async () => {
        const reply = await executeCurl(config, input);
        const structured = reply as unknown as Record<string, unknown>;
        return {
          ...(reply.success ? {} : { isError: true }),
          content: [{ type: 'text', text: json(reply) }],
          structuredContent: structured,
        };
      }),
  );
}
