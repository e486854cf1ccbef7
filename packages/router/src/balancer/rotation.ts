/**
 * Round-robin order shared by every policy as its last tie-break.
 *
 * Instead of a cursor over one global list (upstream), each node remembers when it was last
 * picked and the least recently picked node goes first. That is the same rotation for a fixed
 * list, but it stays fair when the candidate list differs per model or shrinks during failover,
 * and a newly joined node (never picked) is next in line.
 */
import type { FleetNode } from '../fleet/types.js';

/** Past this many remembered nodes the memory is reset (only node churn gets here). */
const MAX_REMEMBERED_NODES = 10_000;

export class RoundRobinClock {
  private readonly lastPicked = new Map<string, number>();
  private tick = 0;

  /** Lower goes first: 0 for never picked, else the tick of the last pick. */
  rank(node: FleetNode): number {
    return this.lastPicked.get(node.id) ?? 0;
  }

  /** Orders by last pick (oldest first), then registration time, so ties are deterministic. */
  compare = (a: FleetNode, b: FleetNode): number =>
    this.rank(a) - this.rank(b) || a.registeredAt - b.registeredAt;

  markPicked(node: FleetNode): void {
    if (this.lastPicked.size >= MAX_REMEMBERED_NODES && !this.lastPicked.has(node.id))
      this.lastPicked.clear();
    this.lastPicked.set(node.id, ++this.tick);
  }
}
