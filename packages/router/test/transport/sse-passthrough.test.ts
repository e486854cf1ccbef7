/** The SSE framer (event-boundary passthrough, history sniffing) and JSON usage extraction. */
import { describe, expect, it } from 'vitest';
import { SseFramer } from '../../src/transport/sse-passthrough.js';
import { extractUsageFromJson, readUsageTrailer } from '../../src/transport/usage.js';

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

describe('SseFramer', () => {
  it('forwards whole events at once and holds back only a trailing partial event', () => {
    const framer = new SseFramer();
    const wire = chunk('hel') + chunk('lo');
    const cut = wire.length - 10;
    expect(framer.push(Buffer.from(wire.slice(0, cut))).toString()).toBe(chunk('hel'));
    expect(framer.push(Buffer.from(wire.slice(cut))).toString()).toBe(chunk('lo'));
    expect(framer.flush()).toHaveLength(0);
    expect(framer.reassembled()).toEqual({ text: 'hello', finish_reason: null });
  });

  it('handles CRLF event endings and events split byte by byte (multi-byte UTF-8 included)', () => {
    const framer = new SseFramer();
    const wire = Buffer.from(
      `${chunk('héllo 🌍').replace('\n\n', '\r\n\r\n')}${chunk('!', 'stop')}data: [DONE]\n\n`,
    );
    const forwarded: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) forwarded.push(framer.push(wire.subarray(i, i + 1)));
    forwarded.push(framer.flush());
    expect(Buffer.concat(forwarded).equals(wire)).toBe(true);
    expect(framer.reassembled()).toEqual({ text: 'héllo 🌍!', finish_reason: 'stop' });
    expect(framer.sawDone).toBe(true);
  });

  it('picks up usage, text completion chunks and a node error event', () => {
    const framer = new SseFramer();
    framer.push(Buffer.from(`data: {"choices":[{"index":0,"text":"once","finish_reason":"length"}]}\n\n`));
    framer.push(Buffer.from(`data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n`));
    framer.push(Buffer.from(`data: {"error":{"message":"slot died","type":"server_error"}}\n\n`));
    expect(framer.reassembled()).toEqual({ text: 'once', finish_reason: 'length' });
    expect(framer.usage).toEqual({ promptTokens: 3, completionTokens: 1 });
    expect(framer.nodeError).toBe('slot died');
  });

  it('caps the reassembled text so a long stream cannot grow memory', () => {
    const framer = new SseFramer();
    const piece = 'x'.repeat(1000);
    for (let i = 0; i < 100; i++) framer.push(Buffer.from(chunk(piece)));
    const { text, truncated } = framer.reassembled();
    expect(text.length).toBe(64 * 1024);
    expect(truncated).toBe(true);
  });

  it('ignores comments and non-JSON data without failing', () => {
    const framer = new SseFramer();
    const out = framer.push(Buffer.from(': keep-alive\n\ndata: not json\n\nevent: ping\ndata: {}\n\n'));
    expect(out.toString()).toContain('keep-alive');
    expect(framer.reassembled()).toEqual({ text: '', finish_reason: null });
    expect(framer.nodeError).toBeNull();
  });
});

describe('extractUsageFromJson', () => {
  it('reads the usage object of a JSON reply', () => {
    const body = {
      id: 'x',
      choices: [{ message: { content: 'hi' } }],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    };
    expect(extractUsageFromJson(Buffer.from(JSON.stringify(body)))).toEqual({
      promptTokens: 5,
      completionTokens: 2,
    });
  });

  it('is not fooled by the word "usage" inside generated text', () => {
    const body = {
      choices: [{ message: { content: 'the "usage": {"prompt_tokens": 999} key' } }],
      usage: { prompt_tokens: 1, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } },
      timings: { predicted_ms: 3 },
    };
    expect(extractUsageFromJson(Buffer.from(JSON.stringify(body)))).toEqual({
      promptTokens: 1,
      completionTokens: 1,
      cachedTokens: 0,
    });
    const onlyInText = { choices: [{ message: { content: '"usage": {"prompt_tokens": 9}' } }] };
    expect(extractUsageFromJson(Buffer.from(JSON.stringify(onlyInText)))).toBeNull();
  });

  it('returns null without usage or for a broken body', () => {
    expect(extractUsageFromJson(Buffer.from('{"data":[]}'))).toBeNull();
    expect(extractUsageFromJson(Buffer.from('{"usage":{"prompt_tokens":'))).toBeNull();
  });
});

describe('readUsageTrailer', () => {
  it("reads a node's usage trailer, cached tokens included", () => {
    const trailer = JSON.stringify({
      prompt_tokens: 40,
      completion_tokens: 8,
      total_tokens: 48,
      prompt_tokens_details: { cached_tokens: 31 },
    });
    expect(readUsageTrailer(trailer)).toEqual({ promptTokens: 40, completionTokens: 8, cachedTokens: 31 });
  });

  it('returns null when there is no trailer or it is malformed', () => {
    expect(readUsageTrailer(undefined)).toBeNull();
    expect(readUsageTrailer('')).toBeNull();
    expect(readUsageTrailer('{"prompt_tokens":')).toBeNull();
    expect(readUsageTrailer('"text"')).toBeNull();
    expect(readUsageTrailer('{}')).toBeNull();
  });
});
