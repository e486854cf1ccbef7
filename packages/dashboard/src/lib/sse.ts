/**
 * Reads an OpenAI chat-completions stream (SSE) from a fetch body: yields each parsed chunk
 * and stops at `[DONE]`. An `event: error` frame (the router's mid-stream error tail) throws.
 */

export interface ChatChunk {
  choices?: Array<{
    delta?: { content?: string | null; reasoning_content?: string | null };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Splits SSE text into events; returns the complete events and the unfinished remainder. */
export function splitEvents(buffer: string): {
  events: Array<{ event: string; data: string }>;
  rest: string;
} {
  const events: Array<{ event: string; data: string }> = [];
  const normalized = buffer.replace(/\r\n/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

export async function* readChatStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatChunk> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const { events, rest } = splitEvents(buffer);
      buffer = rest;
      for (const e of events) {
        if (e.data === '[DONE]') return;
        let chunk: ChatChunk;
        try {
          chunk = JSON.parse(e.data) as ChatChunk;
        } catch {
          continue;
        }
        if (e.event === 'error' || chunk.error) throw new Error(chunk.error?.message ?? 'The stream failed');
        yield chunk;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
