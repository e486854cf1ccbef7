import { describe, expect, it } from 'vitest';
import {
  fingerprintRequest,
  fingerprintText,
  renderPrefixText,
} from '../../src/balancer/prefix-fingerprint.js';
import { PrefixIndex } from '../../src/balancer/prefix-index.js';

const text = (seed: string, chars: number) => seed.repeat(Math.ceil(chars / seed.length)).slice(0, chars);

describe('prefix fingerprint', () => {
  it('chains block hashes: a shared prefix gives equal leading hashes, then they differ', () => {
    const shared = text('You are a helpful assistant. ', 640);
    const a = fingerprintText(`${shared}Question one?`.padEnd(900, '.'));
    const b = fingerprintText(`${shared}Another question`.padEnd(900, '!'));
    expect(a.blocks.slice(0, 10)).toEqual(b.blocks.slice(0, 10));
    expect(a.blocks[10]).not.toBe(b.blocks[10]);
    // A later block equal by content still differs by its prefix.
    const c = fingerprintText(`x${shared.slice(1)}`);
    expect(c.blocks.every((h, i) => h !== a.blocks[i])).toBe(true);
  });

  it('renders messages so a follow-up turn extends the previous prompt', () => {
    const turn1 = {
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'hello' },
      ],
    };
    const turn2 = {
      messages: [...turn1.messages, { role: 'assistant', content: 'hi' }, { role: 'user', content: 'more' }],
    };
    expect(renderPrefixText(turn2)!.startsWith(renderPrefixText(turn1)!)).toBe(true);
    expect(renderPrefixText({ prompt: 'abc' })).toBe('abc');
    expect(renderPrefixText({ input: 'embed me' })).toBeNull();
    expect(fingerprintRequest({ prompt: ['a', 'b'] })).toBeNull();
  });
});

describe('prefix index', () => {
  const fp = (seed: string, blocks: number) => fingerprintText(text(seed, blocks * 64));

  it('matches the longest prefix a node was sent', () => {
    const index = new PrefixIndex();
    const long = fp('conversation A ', 20);
    index.insert('m', 'n1', fingerprintText(text('conversation A ', 12 * 64)));
    expect(index.matchedBlocks('m', 'n1', long)).toBe(12);
    expect(index.matchedBlocks('m', 'n2', long)).toBe(0);
    expect(index.matchedBlocks('other-model', 'n1', long)).toBe(0);
  });

  it('never holds more than its bound, evicting the least recently used first', () => {
    const index = new PrefixIndex({ maxEntries: 50 });
    const a = fp('alpha ', 20);
    const b = fp('bravo ', 20);
    index.insert('m', 'n1', a);
    index.insert('m', 'n1', b);
    expect(index.size).toBe(40);
    // Touch a, then add 20 more blocks: b's entries go first.
    index.insert('m', 'n1', a);
    index.insert('m', 'n2', fp('charlie ', 20));
    expect(index.size).toBe(50);
    expect(index.matchedBlocks('m', 'n1', a)).toBe(20);
    expect(index.matchedBlocks('m', 'n1', b)).toBeLessThan(20);
    for (let i = 0; i < 100; i++) index.insert('m', `n${i}`, fp(`many ${i} `, 30));
    expect(index.size).toBe(50);
    expect(index.stats().evictions).toBeGreaterThan(0);
  });

  it('ignores entries older than the TTL', () => {
    let clock = 0;
    const index = new PrefixIndex({ ttlMs: 1000, now: () => clock });
    const a = fp('alpha ', 10);
    index.insert('m', 'n1', a);
    clock = 999;
    expect(index.matchedBlocks('m', 'n1', a)).toBe(10);
    clock = 1001;
    expect(index.matchedBlocks('m', 'n1', a)).toBe(0);
  });

  it('forgets a node when its epoch changes (back online, model reloaded) or it is forgotten', () => {
    const index = new PrefixIndex();
    const a = fp('alpha ', 10);
    index.syncEpoch('m', 'n1', 'online@1:loaded@1');
    index.insert('m', 'n1', a);
    index.syncEpoch('m', 'n1', 'online@1:loaded@1');
    expect(index.matchedBlocks('m', 'n1', a)).toBe(10);
    index.syncEpoch('m', 'n1', 'online@1:loaded@2');
    expect(index.matchedBlocks('m', 'n1', a)).toBe(0);
    index.insert('m', 'n1', a);
    index.forgetNode('n1');
    expect(index.matchedBlocks('m', 'n1', a)).toBe(0);
  });

  it('drops a node that keeps reporting less reuse than predicted (drift correction)', () => {
    const index = new PrefixIndex({ missesBeforeDrop: 2 });
    const shared = fp('shared system prompt ', 10);
    const other = fingerprintText(text('shared system prompt ', 10 * 64) + text('turn ', 5 * 64));
    index.insert('m', 'n1', shared);
    expect(index.matchedBlocks('m', 'n1', other)).toBe(10);
    // A report in line with the prediction is a hit and resets the count.
    expect(index.observe('m', 'n1', other, 10, 60, 100)).toBe(false);
    expect(index.observe('m', 'n1', other, 10, 0, 100)).toBe(true);
    expect(index.matchedBlocks('m', 'n1', shared)).toBe(10);
    expect(index.observe('m', 'n1', other, 10, 1, 100)).toBe(true);
    // Two misses in a row: the old entries are void; only the prompt just served is known.
    expect(index.matchedBlocks('m', 'n1', fp('shared system prompt ', 10))).toBe(10);
    const unrelated = fp('unrelated ', 5);
    index.insert('m', 'n2', unrelated);
    expect(index.stats().drops).toBe(1);
    expect(index.observe('m', 'n1', other, 0, 0, 100)).toBe(false);
    // Only reports with a prediction are checked: three checks, two of them misses.
    expect(index.stats()).toMatchObject({ checks: 3, misses: 2 });
  });
});
