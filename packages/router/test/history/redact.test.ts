/**
 * Redaction of stored request bodies: payloads are replaced wherever they sit, and a body with
 * nothing to redact is recorded without a second copy.
 */
import { describe, expect, it } from 'vitest';
import { redactPayloads } from '../../src/history/redact.js';

describe('redactPayloads', () => {
  it('returns a body with nothing to redact as it is (no copy)', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 };
    expect(redactPayloads(body)).toBe(body);
  });

  it('replaces data-URLs and long base64 deep inside, leaving the input and its other parts untouched', () => {
    const image = `data:image/png;base64,${'A'.repeat(100)}`;
    const blob = 'QUJD'.repeat(200);
    const first = { role: 'system', content: 'keep' };
    const body = {
      model: 'm',
      messages: [first, { role: 'user', content: [{ type: 'image_url', image_url: { url: image } }] }],
      audio: blob,
    };
    const before = JSON.stringify(body);
    const out = redactPayloads(body) as typeof body;
    expect(JSON.stringify(body)).toBe(before);
    expect(out).not.toBe(body);
    expect(out.messages[0]).toBe(first);
    expect(out.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: `[redacted data-url image/png len=${image.length}]` } },
      ],
    });
    expect(out.audio).toBe(`[redacted base64 len=${blob.length}]`);
    expect(Object.keys(out)).toEqual(['model', 'messages', 'audio']);
  });

  it('keeps every key of a copied object, "__proto__" included, in order', () => {
    const blob = 'A'.repeat(600);
    const body = JSON.parse(`{"__proto__": {"x": 1}, "model": "m", "audio": "${blob}", "z": 2}`);
    const out = redactPayloads(body) as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(out))).toEqual(
      JSON.parse(`{"__proto__": {"x": 1}, "model": "m", "audio": "[redacted base64 len=600]", "z": 2}`),
    );
    expect(Object.keys(out)).toEqual(['__proto__', 'model', 'audio', 'z']);
  });
});
