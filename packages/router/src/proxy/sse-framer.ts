/**
 * Passes an SSE stream through event by event and looks at it only as far as the router must.
 *
 * Each chunk is forwarded as soon as it completes at least one event; only a trailing partial
 * event is held back (until its end arrives). That way a failure mid-stream never leaves a torn
 * event in front of the router's error event. Complete events are scanned for `usage`, for an
 * `error` event from the node, and for `[DONE]`; nothing else is parsed or kept.
 */
import { readUsage } from './usage.js';
import type { TokenUsage } from './types.js';

/** A partial event longer than this is forwarded as is rather than held (bounded memory). */
const MAX_HELD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

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
  private held: Buffer = EMPTY;

  /** Returns the bytes that may go to the client now (possibly empty). */
  push(chunk: Buffer): Buffer {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    let end = endOfLastEvent(data);
    if (end > 0) this.endsMidEvent = false;
    if (end === 0 && data.length > MAX_HELD_BYTES) {
      end = data.length;
      this.endsMidEvent = true;
    }
    this.held = end === data.length ? EMPTY : data.subarray(end);
    const ready = data.subarray(0, end);
    if (ready.length > 0) this.inspect(ready);
    return ready;
  }

  /** At the clean end of the node stream: whatever is left, even without a final blank line. */
  flush(): Buffer {
    const rest = this.held;
    this.held = EMPTY;
    if (rest.length > 0) this.inspect(rest);
    return rest;
  }

  private inspect(events: Buffer): void {
    for (const line of events.toString('utf8').split('\n')) {
      if (!line.startsWith('data:')) continue;
      const value = line.slice(5).trim();
      if (value === '[DONE]') {
        this.sawDone = true;
      } else if (value.startsWith('{"error"') || value.includes('"usage"')) {
        this.inspectJson(value);
      }
    }
  }

  private inspectJson(value: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const event = parsed as { usage?: unknown; error?: unknown };
    const usage = readUsage(event.usage);
    if (usage) this.usage = usage;
    if (event.error !== undefined && event.error !== null) this.nodeError = describeNodeError(event.error);
  }
}

export function describeNodeError(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error);
}
