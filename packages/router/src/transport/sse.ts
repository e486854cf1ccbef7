/**
 * Server-sent events, both ways: the router's one SSE parser and its frame writers, used by the
 * node proxy and the cloud gateway alike. The parser is incremental (events are yielded as soon
 * as their blank line arrives, never buffered to the end) and accepts the three line endings the
 * SSE spec allows, since Gemini frames events with `\r\n\r\n` and Anthropic with `\n\n`.
 */

export interface SseEvent {
  /** The `event:` field; `null` for unnamed events (OpenAI, Gemini). */
  event: string | null;
  data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private event: string | null = null;
  private data: string[] = [];
  /** A `\r` ended the previous chunk; a `\n` starting the next one belongs to it. */
  private pendingCr = false;

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): SseEvent[] {
    let text = this.decoder.decode(chunk, { stream: true });
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    return this.drainLines();
  }

  /** The stream ended: a last event without its blank line still counts. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.drainLines();
    if (this.buffer !== '') {
      this.takeLine(this.buffer, events);
      this.buffer = '';
    }
    this.dispatch(events);
    return events;
  }

  private drainLines(): SseEvent[] {
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone `\r` at the very end may be the first half of `\r\n`.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) {
        this.pendingCr = true;
        this.takeLine(this.buffer.slice(0, match.index), events);
        this.buffer = '';
        break;
      }
      this.takeLine(this.buffer.slice(0, match.index), events);
      this.buffer = this.buffer.slice(match.index + match[0].length);
    }
    return events;
  }

  private takeLine(line: string, events: SseEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length > 0) events.push({ event: this.event, data: this.data.join('\n') });
    this.event = null;
    this.data = [];
  }
}

/** One OpenAI-style SSE frame. */
export function sseFrame(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

/** One named SSE frame (Anthropic Messages and OpenAI Responses name every event). */
export function namedSseFrame(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * The end of an OpenAI-style stream that failed after it started: one error event (which the
 * OpenAI SDKs raise) and `[DONE]`. `midEvent` closes a torn event first.
 */
export function sseErrorTail(errorBody: unknown, midEvent = false): string {
  return `${midEvent ? '\n\n' : ''}${sseFrame(errorBody)}${SSE_DONE}`;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // Tells nginx-style proxies in front of the router not to buffer the stream.
  'x-accel-buffering': 'no',
};
