/**
 * `cache_aware`: send a request where its prompt's prefix is already in a node's KV cache, so
 * the node skips that prefill (llama.cpp reuses a sequence's cached prefix). The SGLang gateway's
 * cache-aware policy for llama.cpp fleets, token-free:
 * 1. an affinity key (`user` / `x-session-id`) sticks to its last node while that node is healthy
 *    and not overloaded;
 * 2. otherwise the node the prefix index believes holds the longest prefix;
 * 3. unless that would unbalance the fleet: a node whose load exceeds the least-loaded one's by
 *    more than `balanceAbs` requests and by more than `balanceRel` times is passed over, and the
 *    least-loaded node (round-robin among equals) is chosen instead. A prefix node whose
 *    sequences are all busy is still chosen within those bounds: a short wait for one of its
 *    sequences is cheaper than a full prefill elsewhere, which would also evict another
 *    conversation's prefix there (measured: bench/cache-aware.ts, docs/benchmarks.md).
 * Nodes' reported `cached_tokens` correct the index (see prefix-index.ts).
 */
import type { FleetNode } from '../fleet/types.js';
import { hasFreshMetrics } from './node-signals.js';
import { PrefixIndex, type PrefixIndexOptions } from './prefix-index.js';
import { compareRotation, markPicked } from './rotation.js';
import type { BalancerOptions, BalancerPolicy, BalancerRequest, RoutingDecision } from './types.js';

export interface CacheAwareOptions extends BalancerOptions, PrefixIndexOptions {
  /** A node may carry this many more requests than the least-loaded one and still get its prefix. */
  balanceAbs?: number;
  /** ...or up to this many times the least-loaded one's load. */
  balanceRel?: number;
  /** Affinity keys remembered at most (least recently used forgotten first). */
  maxAffinityKeys?: number;
}

export const DEFAULT_BALANCE_ABS = 2;
export const DEFAULT_BALANCE_REL = 1.5;
const DEFAULT_MAX_AFFINITY_KEYS = 10_000;

export interface CacheAwarePolicy extends BalancerPolicy {
  readonly index: PrefixIndex;
}

/**
 * Requests in progress on the node: the router's own count, or the node's fresher-looking report
 * when it is higher (other clients). Not their sum: the router's requests are in both.
 */
function loadOf(node: FleetNode, now: number): number {
  const reported = hasFreshMetrics(node, now) ? node.metrics.activeRequests : 0;
  return Math.max(node.stats.inFlight, reported);
}

/** Online-since plus the model's load time: either moving means the node's KV caches are new. */
function cacheEpoch(node: FleetNode, model: string): string {
  const loadedAt = node.models.find((m) => m.id === model)?.loaded_at ?? '';
  return `${node.onlineSince ?? ''}:${loadedAt}`;
}

export function createCacheAwarePolicy(options: CacheAwareOptions = {}): CacheAwarePolicy {
  const now = options.now ?? Date.now;
  const index = new PrefixIndex(options);
  const balanceAbs = options.balanceAbs ?? DEFAULT_BALANCE_ABS;
  const balanceRel = options.balanceRel ?? DEFAULT_BALANCE_REL;
  const maxAffinityKeys = options.maxAffinityKeys ?? DEFAULT_MAX_AFFINITY_KEYS;
  /** `model \n key` → node id, in least-recently-used order. */
  const affinity = new Map<string, string>();

  function remember(key: string, nodeId: string) {
    affinity.delete(key);
    affinity.set(key, nodeId);
    if (affinity.size > maxAffinityKeys) affinity.delete(affinity.keys().next().value as string);
  }

  function select(candidates: readonly FleetNode[], request: BalancerRequest): FleetNode | undefined {
    if (candidates.length === 0) return undefined;
    const at = now();
    const { model } = request;
    const loads = new Map<FleetNode, number>();
    let minLoad = Number.POSITIVE_INFINITY;
    for (const node of candidates) {
      const load = loadOf(node, at);
      loads.set(node, load);
      minLoad = Math.min(minLoad, load);
      index.syncEpoch(model, node.id, cacheEpoch(node, model));
    }
    const load = (node: FleetNode) => loads.get(node) ?? 0;
    const overloaded = (node: FleetNode) =>
      load(node) - minLoad > balanceAbs && load(node) > minLoad * balanceRel;
    const lessLoaded = (a: FleetNode, b: FleetNode) => load(a) - load(b) || compareRotation(a, b);

    let chosen: FleetNode | undefined;
    let reason: RoutingDecision['reason'] = 'least_loaded';
    const affinityKey = request.affinityKey ? `${model}\n${request.affinityKey}` : null;
    if (affinityKey) {
      const pinnedId = affinity.get(affinityKey);
      const pinned = candidates.find((node) => node.id === pinnedId);
      if (pinned && !overloaded(pinned)) {
        chosen = pinned;
        reason = 'affinity';
      }
    }
    const fp = request.prefix;
    const matched = new Map<FleetNode, number>();
    const matchOf = (node: FleetNode) => {
      if (!fp) return 0;
      let blocks = matched.get(node);
      if (blocks === undefined) {
        blocks = index.matchedBlocks(model, node.id, fp);
        matched.set(node, blocks);
      }
      return blocks;
    };
    if (!chosen && fp && fp.blocks.length > 0) {
      let best: FleetNode | undefined;
      for (const node of candidates) {
        if (overloaded(node) || matchOf(node) === 0) continue;
        if (
          !best ||
          matchOf(node) > matchOf(best) ||
          (matchOf(node) === matchOf(best) && lessLoaded(node, best) < 0)
        )
          best = node;
      }
      if (best) {
        chosen = best;
        reason = 'prefix';
      }
    }
    if (!chosen) {
      for (const node of candidates) if (!chosen || lessLoaded(node, chosen) < 0) chosen = node;
    }
    const node = chosen!;
    markPicked(node);
    if (fp) index.insert(model, node.id, fp);
    if (affinityKey) remember(affinityKey, node.id);
    request.decision = {
      matchedPrefixChars: fp ? Math.min(matchOf(node) * fp.blockChars, fp.totalChars) : 0,
      nodeLoad: load(node),
      reason,
    };
    return node;
  }

  return {
    name: 'cache_aware',
    wantsPrefix: true,
    index,
    select,
    onUsage(node, request, report) {
      if (request.decision) request.decision.cachedTokens = report.cachedTokens;
      const fp = request.prefix;
      if (!fp || !request.decision) return;
      const predicted = Math.floor(request.decision.matchedPrefixChars / fp.blockChars);
      index.observe(request.model, node.id, fp, predicted, report.cachedTokens, report.promptTokens);
    },
  };
}
