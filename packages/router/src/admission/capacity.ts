/**
 * How many requests the router lets a node have in progress for one model. A node that reports
 * its context sequences (heartbeat `models[].sequences`) gets `sequences × requestsPerSequence`
 * (one running plus a short queue per sequence, never more than the node itself accepts:
 * `sequences + queue_limit`). A node that does not report them is not limited here: the router
 * cannot know its capacity, so it keeps the old behaviour and lets the node refuse.
 */
import type { FleetNode } from '../fleet/types.js';

export const DEFAULT_REQUESTS_PER_SEQUENCE = 2;

export function nodeCapacity(node: FleetNode, model: string, requestsPerSequence: number): number {
  const entry = node.models.find((m) => m.id === model);
  const sequences = entry?.sequences;
  if (sequences === undefined || sequences === null || sequences <= 0) return Number.POSITIVE_INFINITY;
  const allowed = sequences * Math.max(1, requestsPerSequence);
  const nodeLimit = entry?.queue_limit;
  return nodeLimit === undefined || nodeLimit === null ? allowed : Math.min(allowed, sequences + nodeLimit);
}

/** The router's own count of requests in progress per node and model. */
export class InFlightCounter {
  private readonly counts = new Map<string, number>();

  count(nodeId: string, model: string): number {
    return this.counts.get(key(nodeId, model)) ?? 0;
  }

  begin(nodeId: string, model: string): void {
    const k = key(nodeId, model);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  end(nodeId: string, model: string): void {
    const k = key(nodeId, model);
    const next = (this.counts.get(k) ?? 0) - 1;
    if (next <= 0) this.counts.delete(k);
    else this.counts.set(k, next);
  }
}

const key = (nodeId: string, model: string) => `${nodeId}\n${model}`;
