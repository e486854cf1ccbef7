/**
 * Connects the official MCP SDK client to the BUILT server (`node dist/cli.js`) over stdio, the
 * way Claude Code or Codex start it. Routers and nodes come from the shared e2e harness
 * (test/support/processes.ts).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const serverCli = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'dist/cli.js');

export interface McpSession {
  client: Client;
  /** Everything the server wrote to stderr (its log). */
  stderr: () => string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export async function connectMcp(env: Record<string, string>, cwd: string): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverCli],
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => {
    stderr += d;
  });
  const client = new Client({ name: 'llm-router-mcp-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    call: async (name, args = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult,
    close: () => client.close(),
  };
}

/** The text of a tool result. */
export const textOf = (result: CallToolResult) =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** A resource's text; a binary (blob) resource has none, and fails the assertions that read it. */
export const resourceText = (content: { text: string } | { blob: string }) =>
  'text' in content ? content.text : '';
