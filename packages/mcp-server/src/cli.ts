#!/usr/bin/env node
/**
 * `llm-router-mcp`: the stdio MCP server. stdout carries the protocol only, so every log line
 * goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, loadConfig, packageVersion } from './server.js';

const log = (message: string) => process.stderr.write(`llm-router-mcp: ${message}\n`);

const HELP = `llm-router-mcp ${packageVersion} - MCP server (stdio) for operating an LLM Router

Environment:
  LLM_ROUTER_URL        router base URL (default http://localhost:8080)
  LLM_ROUTER_API_KEY    API key (sk_…) for /v1 and admin routes (admin:* for management)
  LLM_ROUTER_JWT_TOKEN  admin session token (POST /v0/auth/login), used for users and keys
  LLM_ROUTER_OPENAPI_PATH  serve this OpenAPI file instead of the router's /openapi.json

Usage: llm-router-mcp            (started by an MCP client such as Claude Code or Codex)
       llm-router-mcp --help | --version
`;

async function main() {
  const arg = process.argv[2];
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(HELP);
    return;
  }
  if (arg === '--version' || arg === '-V') {
    process.stdout.write(`${packageVersion}\n`);
    return;
  }
  const config = loadConfig();
  const server = createMcpServer(config);
  await server.connect(new StdioServerTransport());
  log(
    `ready: router ${config.routerUrl}, api key ${config.apiKey ? 'set' : 'not set'}, jwt ${config.jwtToken ? 'set' : 'not set'}`,
  );
  const shutdown = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdin.on('end', shutdown);
}

main().catch((error: Error) => {
  log(error.message);
  process.exit(1);
});
