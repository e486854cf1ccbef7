/**
 * Runs the format adapters on a golden transcript: the client's request → the chat request a
 * backend gets, and the backend's chat reply (JSON or chunk stream) → what the client gets. Ids
 * the router mints (`msg_…`, `resp_…`, `fc_…`) and timestamps are normalised before comparing.
 */

import { MessagesStream } from '../../src/formats/anthropic-messages/reply.js';
import { messagesToChat } from '../../src/formats/anthropic-messages/request.js';
import type { FormatTranslation } from '../../src/formats/channel.js';
import { ResponsesTranslation } from '../../src/formats/openai-responses/reply.js';
import { itemsToChat, responsesToChat } from '../../src/formats/openai-responses/request.js';
import { SseParser } from '../../src/transport/sse.js';

type Json = Record<string, unknown>;

export interface Transcript {
  name: string;
  source: string;
  format: 'messages' | 'responses';
  client: Json;
  chat: Json;
  reply: { json: Json } | { chunks: Array<Json | '[DONE]'> };
  expected: { json: Json } | { events: Array<{ event: string; data: Json }> };
}

const MINTED = /^(msg|resp|fc|toolu)_[0-9a-f]{16,}$/;

export function normalise(value: unknown): unknown {
  if (typeof value === 'string') return MINTED.test(value) ? `${value.split('_')[0]}_<minted>` : value;
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key, key === 'created_at' ? 0 : normalise(v)]),
    );
  }
  return value;
}

export function translateRequest(t: Transcript): Json {
  if (t.format === 'messages') return messagesToChat(t.client as never);
  return responsesToChat(t.client, [], itemsToChat(t.client.input));
}

function translation(t: Transcript): FormatTranslation {
  const model = String(t.client.model);
  if (t.format === 'messages') return new MessagesStream(model);
  return new ResponsesTranslation({
    id: 'resp_0000000000000000',
    model,
    createdAt: 0,
    request: t.client,
    previousResponseId: null,
    store: t.client.store !== false,
  });
}

export function translateReply(t: Transcript): Transcript['expected'] {
  const adapter = translation(t);
  if ('json' in t.reply) return { json: normalise(adapter.reply(t.reply.json)) as Json };
  let wire = adapter.open();
  for (const chunk of t.reply.chunks) wire += chunk === '[DONE]' ? adapter.close() : adapter.chunk(chunk);
  const parser = new SseParser();
  const events = [...parser.push(Buffer.from(wire)), ...parser.end()].map((e) => ({
    event: e.event ?? '',
    data: normalise(JSON.parse(e.data)) as Json,
  }));
  return { events };
}
