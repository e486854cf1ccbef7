/**
 * What the router believes each node holds in its KV cache, per model: for every prompt block
 * (see prefix-fingerprint.ts) the nodes a prompt with that prefix was sent to. It is approximate
 * on purpose (no tokens, no KV events from the nodes) and kept honest three ways:
 * - a hard bound on its size: at most `maxEntries` (model, block, node) entries, the least
 *   recently used evicted first, and entries older than `ttlMs` ignored and dropped;
 * - epochs: when a node comes back online or reloads the model, what was known about it is void;
 * - drift correction: nodes report `cached_tokens`; a node whose reports keep falling short of
 *   what the index predicted loses its entries for that model.
 */
import type { PrefixFingerprint } from './prefix-fingerprint.js';

export interface PrefixIndexOptions {
  /** Hard bound on stored (model, block, node) entries. About 200 bytes each. */
  maxEntries?: number;
  /** Entries not refreshed for this long are treated as gone. */
  ttlMs?: number;
  /** Consecutive short reports after which a node's entries for a model are dropped. */
  missesBeforeDrop?: number;
  now?: () => number;
}

export const DEFAULT_INDEX_MAX_ENTRIES = 100_000;
export const DEFAULT_INDEX_TTL_MS = 10 * 60_000;
const DEFAULT_MISSES_BEFORE_DROP = 2;
/** A report below this share of the predicted reuse counts as a miss. */
const MISS_RATIO = 0.5;

interface Entry {
  /** Last time a request with this prefix was sent to the node. */
  at: number;
  /** The (model, node) generation it was written in; older generations are void. */
  gen: number;
}

interface NodeState {
  gen: number;
  /** Online-since and model load time: a change means the node's caches were emptied. */
  epoch: string;
  misses: number;
}

export interface PrefixIndexStats {
  entries: number;
  maxEntries: number;
  evictions: number;
  drops: number;
  /** Node usage reports compared with a prediction (drift correction at work). */
  checks: number;
  /** Of those, reports that fell short of the prediction. */
  misses: number;
}

export class PrefixIndex {
  /** Key `model \n node \n hash`; Map order is the LRU order (oldest first). */
  private readonly entries = new Map<string, Entry>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly missesBeforeDrop: number;
  private readonly now: () => number;
  private evictions = 0;
  private drops = 0;
  private checks = 0;
  private misses = 0;

  constructor(options: PrefixIndexOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_INDEX_MAX_ENTRIES);
    this.ttlMs = options.ttlMs ?? DEFAULT_INDEX_TTL_MS;
    this.missesBeforeDrop = options.missesBeforeDrop ?? DEFAULT_MISSES_BEFORE_DROP;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): PrefixIndexStats {
    return {
      entries: this.entries.size,
      maxEntries: this.maxEntries,
      evictions: this.evictions,
      drops: this.drops,
      checks: this.checks,
      misses: this.misses,
    };
  }

  /**
   * Tells the index the node's current epoch for a model; a different epoch than last time (it
   * came back online, or reloaded the model) voids everything known about it.
   */
  syncEpoch(model: string, nodeId: string, epoch: string): void {
    const state = this.nodes.get(stateKey(model, nodeId));
    if (!state) {
      this.nodes.set(stateKey(model, nodeId), { gen: 0, epoch, misses: 0 });
      return;
    }
    if (state.epoch !== epoch) {
      state.epoch = epoch;
      this.dropNode(model, nodeId);
    }
  }

  /** Forgets what the node held for the model (its entries are void and evicted over time). */
  dropNode(model: string, nodeId: string): void {
    const state = this.stateOf(model, nodeId);
    state.gen++;
    state.misses = 0;
    this.drops++;
  }

  /** Forgets a node for every model (it went offline or was removed). */
  forgetNode(nodeId: string): void {
    for (const [key, state] of this.nodes) {
      if (key.endsWith(`\n${nodeId}`)) {
        state.gen++;
        state.misses = 0;
        this.drops++;
      }
    }
  }

  /** How many leading blocks of `fp` the node is believed to hold for the model. */
  matchedBlocks(model: string, nodeId: string, fp: PrefixFingerprint): number {
    const state = this.nodes.get(stateKey(model, nodeId));
    if (!state || fp.blocks.length === 0) return 0;
    const oldest = this.now() - this.ttlMs;
    const prefix = `${model}\n${nodeId}\n`;
    // Chained hashes: block i present means the whole prefix up to i was seen; longest first.
    for (let i = fp.blocks.length - 1; i >= 0; i--) {
      const key = prefix + fp.blocks[i];
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.gen !== state.gen || entry.at < oldest) {
        this.entries.delete(key);
        continue;
      }
      return i + 1;
    }
    return 0;
  }

  /** Records that a prompt with this fingerprint was sent to the node (it will hold its prefix). */
  insert(model: string, nodeId: string, fp: PrefixFingerprint): void {
    const state = this.stateOf(model, nodeId);
    const at = this.now();
    const prefix = `${model}\n${nodeId}\n`;
    // Last block first: a prefix's leading blocks (shared by more prompts) are evicted last,
    // as a radix tree evicts leaves before the trunk.
    for (let i = fp.blocks.length - 1; i >= 0; i--) {
      const key = prefix + fp.blocks[i];
      this.entries.delete(key);
      this.entries.set(key, { at, gen: state.gen });
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictions++;
    }
  }

  /**
   * Drift correction from what the node reported. `predictedBlocks` is what `matchedBlocks` said
   * when the request was routed; `cachedTokens` of `promptTokens` is what the node reused.
   * Returns true when the report counted as a miss.
   */
  observe(
    model: string,
    nodeId: string,
    fp: PrefixFingerprint,
    predictedBlocks: number,
    cachedTokens: number,
    promptTokens: number,
  ): boolean {
    if (predictedBlocks === 0 || promptTokens <= 0 || fp.totalChars === 0) return false;
    const state = this.stateOf(model, nodeId);
    const predictedShare = (predictedBlocks * fp.blockChars) / fp.totalChars;
    const reportedShare = cachedTokens / promptTokens;
    this.checks++;
    if (reportedShare >= predictedShare * MISS_RATIO) {
      state.misses = 0;
      return false;
    }
    this.misses++;
    state.misses++;
    if (state.misses >= this.missesBeforeDrop) {
      this.dropNode(model, nodeId);
      // It did just evaluate this prompt: that much it holds now.
      this.insert(model, nodeId, fp);
    }
    return true;
  }

  private stateOf(model: string, nodeId: string): NodeState {
    const key = stateKey(model, nodeId);
    let state = this.nodes.get(key);
    if (!state) {
      state = { gen: 0, epoch: '', misses: 0 };
      this.nodes.set(key, state);
    }
    return state;
  }
}

const stateKey = (model: string, nodeId: string) => `${model}\n${nodeId}`;
