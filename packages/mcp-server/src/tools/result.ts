/**
 * One way to answer a tool call: text for the assistant plus `structuredContent`, and every
 * failure as an `isError: true` result with a message the assistant can act on — a tool never
 * throws out of its handler, so a failure never takes the server down.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolFailure } from '../router-client.js';

export function ok(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

export function fail(message: string, structured?: Record<string, unknown>): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: message }],
    ...(structured ? { structuredContent: structured } : {}),
  };
}

/** Runs a tool body; a ToolFailure or any unexpected error becomes an error result. */
export async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ToolFailure)
      return fail(
        error.message,
        error.status ? { status: error.status, body: error.body ?? null } : undefined,
      );
    process.stderr.write(`llm-router-mcp: tool failed: ${(error as Error).stack ?? String(error)}\n`);
    return fail(`Unexpected error in the MCP server: ${(error as Error).message}`);
  }
}

export const json = (value: unknown) => JSON.stringify(value, null, 2);
