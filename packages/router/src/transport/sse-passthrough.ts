/**
 * Passes an SSE stream through event by event and looks at it only as far as the router must.
 *
 * Each chunk is forwarded as soon as it completes at least one event; only a trailing partial
 * event is held back (until its end arrives). That way a failure mid-stream never leaves a torn
 * event in front of the router's error event. Complete events are read for what request history
 * needs: `usage`, an `error` event from the node, `[DONE]`, and the generated text of the first
 * choice with its finish reason (the text capped, so memory stays bounded on long streams).
 */

import { SseParser } from './sse.js';
import { readUsage, type TokenUsage } from './usage.js';

/** A partial event longer than this is forwarded as is rather than held (bounded memory). */
const MAX_HELD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
/** History keeps at most this much reassembled text per stream. */
const MAX_REASSEMBLED_CHARS = 64 * 1024;

/** A stream as request history stores it: what the client read, not every chunk. */
export interface ReassembledStream {
  text: string;
  finish_reason: string | null;
  /** Present when the text was cut at the cap. */
  truncated?: true;
}

interface StreamEvent {
  usage?: unknown;
  error?: unknown;
  choices?: Array<{
    index?: number;
    text?: unknown;
    delta?: { content?: unknown; tool_calls?: unknown };
    finish_reason?: unknown;
  }>;
}

function endOfLastEvent(data: Buffer): number {
  const lf = data.lastIndexOf('\n\n');
  const crlf = data.lastIndexOf('\r\n\r\n');
  return Math.max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 4);
}

export class SseFramer {
  usage: TokenUsage | null = null;
  nodeError: string | null = null;
  sawDone = false;
  /** True when the bytes forwarded so far stop inside an event (only after an oversized one). */
  endsMidEvent = false;
  /**
   * `performance.now()` when the first event carrying content or a tool call passed (time to
   * first token): the role chunk a node sends before its prefill does not count.
   */
  firstContentAt: number | null = null;
  private held: Buffer = EMPTY;
  private readonly parser = new SseParser();
  private text = '';
  private finishReason: string | null = null;
  private truncated = false;

  /** Returns the bytes that may go to the client now (possibly empty), already inspected. */
  push(chunk: Buffer): Buffer {
    const ready = this.frame(chunk);
    if (ready.length > 0) this.inspect(ready);
    return ready;
  }

  /**
   * Returns the bytes that may go to the client now (possibly empty) without reading them yet:
   * the proxy writes them first and then calls `inspect`, so parsing the events for history
   * never delays the client's bytes.
   */
  frame(chunk: Buffer): Buffer {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    let end = endOfLastEvent(data);
    if (end > 0) this.endsMidEvent = false;
    if (end === 0 && data.length > MAX_HELD_BYTES) {
      end = data.length;
      this.endsMidEvent = true;
    }
    this.held = end === data.length ? EMPTY : data.subarray(end);
    return data.subarray(0, end);
  }

  /** At the clean end of the node stream: whatever is left, even without a final blank line. */
  flush(): Buffer {
    const rest = this.held;
    this.held = EMPTY;
    if (rest.length > 0) this.inspect(rest);
    for (const event of this.parser.end()) this.inspectData(event.data);
    return rest;
  }

  /** Reads complete events `frame` returned (usage, errors, text, time to first token). */
  inspect(events: Buffer): void {
    if (events.length === 0) return;
    for (const event of this.parser.push(events)) this.inspectData(event.data);
  }

  private inspectData(data: string): void {
    const value = data.trim();
    if (value === '[DONE]') this.sawDone = true;
    else if (value.startsWith('{')) this.inspectJson(value);
  }

  /** The stream so far as history records it. */
  reassembled(): ReassembledStream {
    const out: ReassembledStream = { text: this.text, finish_reason: this.finishReason };
    if (this.truncated) out.truncated = true;
    return out;
  }

  private inspectJson(value: string): void {
    let event: StreamEvent;
    try {
      event = JSON.parse(value) as StreamEvent;
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const usage = readUsage(event.usage);
    if (usage) this.usage = usage;
    if (event.error !== undefined && event.error !== null) this.nodeError = describeNodeError(event.error);
    const choice = Array.isArray(event.choices)
      ? event.choices.find((c) => (c?.index ?? 0) === 0)
      : undefined;
    if (!choice) return;
    // Chat chunks carry `delta.content`, text completion chunks carry `text`.
    const piece = typeof choice.delta?.content === 'string' ? choice.delta.content : choice.text;
    const hasText = typeof piece === 'string' && piece.length > 0;
    if (this.firstContentAt === null && (hasText || Array.isArray(choice.delta?.tool_calls)))
      this.firstContentAt = performance.now();
    if (hasText) this.appendText(piece as string);
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
  }

  private appendText(piece: string): void {
    if (this.truncated) return;
    const room = MAX_REASSEMBLED_CHARS - this.text.length;
    if (piece.length > room) {
      this.text += piece.slice(0, room);
      this.truncated = true;
    } else {
      this.text += piece;
    }
  }
}

export function describeNodeError(error: unknown): string {
  if (typeof error === 'string') return error;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error);
}
