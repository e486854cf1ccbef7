/**
 * Token counting on a node: the chat messages go to a node that has the model ready
 * (`POST /tokenize`, which applies the model's chat template and counts with its tokenizer).
 * Used by `/v1/messages/count_tokens` for local models.
 */
import { request } from 'undici';
import type { FleetView } from '../fleet/types.js';
import { HttpError } from '../http/errors.js';

const TOKENIZE_TIMEOUT_MS = 30_000;

export async function countTokensOnNode(
  fleet: FleetView,
  model: string,
  chat: Record<string, unknown>,
): Promise<number> {
  const nodes = fleet.candidatesFor(model);
  let lastError = `no online node has model '${model}' ready`;
  for (const node of nodes) {
    try {
      const res = await request(`${node.baseUrl}/tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: chat.messages }),
        signal: AbortSignal.timeout(TOKENIZE_TIMEOUT_MS),
      });
      const text = await res.body.text();
      const json = JSON.parse(text) as { count?: unknown; error?: { message?: unknown } };
      if (res.statusCode >= 400 && res.statusCode < 500) {
        const message = typeof json.error?.message === 'string' ? json.error.message : text;
        throw new HttpError(res.statusCode, message, 'invalid_request');
      }
      if (res.statusCode === 200 && typeof json.count === 'number') return json.count;
      lastError = `node ${node.machineName} answered ${res.statusCode}`;
    } catch (error) {
      if (error instanceof HttpError) throw error;
      lastError = `node ${node.machineName}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  throw new HttpError(503, `Cannot count tokens: ${lastError}`, 'no_available_nodes');
}
