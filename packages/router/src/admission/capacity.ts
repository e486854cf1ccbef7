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
  // A loop, not `find`: this runs for candidate nodes on every request.
  let entry: FleetNode['models'][number] | undefined;
  for (const m of node.models) {
    if (m.id === model) {
      entry = m;
      break;
    }
  }
  const sequences = entry?.sequences;
  if (sequences === undefined || sequences === null || sequences <= 0) return Number.POSITIVE_INFINITY;
  const allowed = sequences * Math.max(1, requestsPerSequence);
  const nodeLimit = entry?.queue_limit;
  return nodeLimit === undefined || nodeLimit === null ? allowed : Math.min(allowed, sequences + nodeLimit);
}

/** The router's own count of requests in progress per node and model. */
export class InFlightCounter {
  /** Model → node id → count: two lookups, no key string made per call. */
  private readonly counts = new Map<string, Map<string, number>>();

  count(nodeId: string, model: string): number {
    return this.counts.get(model)?.get(nodeId) ?? 0;
  }

  /** Returns the node's new count for the model. */
  begin(nodeId: string, model: string): number {
    let perNode = this.counts.get(model);
    if (!perNode) {
      perNode = new Map();
      this.counts.set(model, perNode);
    }
    const next = (perNode.get(nodeId) ?? 0) + 1;
    perNode.set(nodeId, next);
    return next;
  }

  /** Returns the node's new count for the model. */
  end(nodeId: string, model: string): number {
    const perNode = this.counts.get(model);
    const next = (perNode?.get(nodeId) ?? 0) - 1;
    if (!perNode) return 0;
    if (next > 0) {
      perNode.set(nodeId, next);
      return next;
    }
    perNode.delete(nodeId);
    if (perNode.size === 0) this.counts.delete(model);
    return 0;
  }
}
