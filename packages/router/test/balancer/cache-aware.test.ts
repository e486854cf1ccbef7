import { describe, expect, it } from 'vitest';
import { createCacheAwarePolicy } from '../../src/balancer/cache_aware.js';
import { fingerprintRequest } from '../../src/balancer/prefix-fingerprint.js';
import type { BalancerRequest } from '../../src/balancer/types.js';
import type { FleetNode } from '../../src/fleet/types.js';
import { node, now } from './fixtures.js';

const SYSTEM = 'You answer questions about the attached contract. '.repeat(40);

function chat(system: string, ...turns: string[]): BalancerRequest {
  const messages = [
    { role: 'system', content: system },
    ...turns.map((content) => ({ role: 'user', content })),
  ];
  return { model: 'm', prefix: fingerprintRequest({ messages }) };
}

const withLoad = (n: FleetNode, inFlight: number) => {
  n.stats.inFlight = inFlight;
  return n;
};

describe('cache_aware policy', () => {
  it('sends a follow-up to the node that got its prefix, and records the match', () => {
    const policy = createCacheAwarePolicy({ now });
    const nodes = [node('a'), node('b'), node('c')];
    const first = chat(SYSTEM, 'first question');
    const home = policy.select(nodes, first)!;
    expect(first.decision).toMatchObject({ reason: 'least_loaded', matchedPrefixChars: 0, nodeLoad: 0 });
    for (let i = 0; i < 5; i++) {
      const next = chat(SYSTEM, 'first question', `follow-up ${i}`);
      expect(policy.select(nodes, next)!.id).toBe(home.id);
      expect(next.decision!.reason).toBe('prefix');
      expect(next.decision!.matchedPrefixChars).toBeGreaterThan(SYSTEM.length - 64);
    }
  });

  it('spreads prompts that share nothing like least_loaded does', () => {
    const policy = createCacheAwarePolicy({ now });
    const nodes = [node('a'), node('b'), node('c')];
    const chosen = ['x', 'y', 'z'].map((s) => policy.select(nodes, chat(s.repeat(500), 'q'))!.id);
    expect(new Set(chosen).size).toBe(3);
    const busy = [withLoad(node('a'), 3), withLoad(node('b'), 1), withLoad(node('c'), 2)];
    expect(policy.select(busy, chat('w'.repeat(500), 'q'))!.id).toBe('b');
  });

  it('keeps the prefix node under moderate imbalance, leaves it past both thresholds', () => {
    const policy = createCacheAwarePolicy({ now, balanceAbs: 2, balanceRel: 1.5 });
    const a = node('a');
    const b = node('b');
    policy.select([a], chat(SYSTEM, 'q'));
    // 2 more than the least-loaded: within the absolute threshold.
    withLoad(a, 2);
    expect(policy.select([a, b], chat(SYSTEM, 'q', 'again'))!.id).toBe('a');
    // 3 more: past the absolute threshold and more than 1.5 x (0): least-loaded wins.
    withLoad(a, 3);
    const spilled = chat(SYSTEM, 'q', 'third');
    expect(policy.select([a, b], spilled)!.id).toBe('b');
    expect(spilled.decision!.reason).toBe('least_loaded');
    // 6 vs 4 is past the absolute but not the relative threshold (6 <= 1.5 x 4): prefix again.
    withLoad(a, 6);
    withLoad(b, 4);
    const c = node('c');
    withLoad(c, 5);
    policy.select([c], chat('c-only '.repeat(100), 'q'));
    expect(policy.select([a, c], chat('c-only '.repeat(100), 'q', 'more'))!.id).toBe('c');
  });

  it('keeps a prefix node whose sequences are all busy while within the thresholds', () => {
    const policy = createCacheAwarePolicy({ now });
    const withSequences = (id: string) => {
      const n = node(id);
      n.models = [{ id: 'm', ready: true, sequences: 2 }];
      return n;
    };
    const a = withSequences('a');
    const b = withSequences('b');
    policy.select([a], chat(SYSTEM, 'q'));
    // Both sequences of a busy, b idle: 2 more is within the absolute threshold, so a waits
    // for a sequence rather than b paying the whole prefill.
    withLoad(a, 2);
    const request = chat(SYSTEM, 'q', 'all busy on a');
    expect(policy.select([a, b], request)!.id).toBe('a');
    expect(request.decision).toMatchObject({ reason: 'prefix', nodeLoad: 2 });
    withLoad(a, 3);
    expect(policy.select([a, b], chat(SYSTEM, 'q', 'three on a'))!.id).toBe('b');
  });

  it('pins an affinity key to its node while it is not overloaded', () => {
    const policy = createCacheAwarePolicy({ now });
    const a = node('a');
    const b = node('b');
    const pinned = policy.select([a, b], { model: 'm', affinityKey: 'user-1' })!;
    const other = pinned === a ? b : a;
    withLoad(pinned, 1);
    const again: BalancerRequest = { model: 'm', affinityKey: 'user-1' };
    expect(policy.select([a, b], again)).toBe(pinned);
    expect(again.decision!.reason).toBe('affinity');
    withLoad(pinned, 5);
    expect(policy.select([a, b], { model: 'm', affinityKey: 'user-1' })).toBe(other);
  });

  it('forgets a node whose model was reloaded, and one that keeps missing', () => {
    const policy = createCacheAwarePolicy({ now });
    const a = node('a');
    a.models = [{ id: 'm', ready: true, loaded_at: 1 }];
    const b = node('b');
    policy.select([a], chat(SYSTEM, 'q'));
    withLoad(b, 0);
    expect(policy.select([a, b], chat(SYSTEM, 'q', 'next'))!.id).toBe('a');
    a.models = [{ id: 'm', ready: true, loaded_at: 2 }];
    withLoad(a, 1);
    const afterReload = chat(SYSTEM, 'q', 'after reload');
    expect(policy.select([a, b], afterReload)!.id).toBe('b');
    expect(afterReload.decision!.matchedPrefixChars).toBe(0);

    // b now holds the prefix; its nodes report no reuse twice: b loses its entries.
    withLoad(a, 0);
    for (const turn of ['m1', 'm2']) {
      const request = chat(SYSTEM, 'q', turn);
      withLoad(b, 0);
      const chosen = policy.select([a, b], request)!;
      expect(request.decision!.reason).toBe('prefix');
      policy.onUsage!(chosen, request, { promptTokens: 500, cachedTokens: 0 });
      expect(request.decision!.cachedTokens).toBe(0);
    }
    expect(policy.index.stats().drops).toBeGreaterThanOrEqual(2);
  });
});
