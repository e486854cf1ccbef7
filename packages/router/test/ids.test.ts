/**
 * The ids made on every request: UUIDv7 request and history row ids (time-ordered, so their
 * history indexes grow at the end) and the random hex of trace and span ids.
 */
import { describe, expect, it } from 'vitest';
import { randomHex, uuidV7 } from '../src/observability/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('is an RFC 9562 version-7 UUID carrying its millisecond time', () => {
    const at = Date.UTC(2026, 11, 3, 1, 2, 3, 456);
    const id = uuidV7(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidV7(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect(ids[i - 1] < ids[i]).toBe(true);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });
});

describe('randomHex', () => {
  it('gives lowercase hex of the asked length, different every time, across pool refills', () => {
    const ids = Array.from({ length: 3000 }, () => randomHex(32));
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{16}$/);
  });
});
