/**
 * Round-robin order shared by every policy as its last tie-break.
 *
 * Instead of a cursor over one global list (upstream), each node remembers when it was last
 * picked and the least recently picked node goes first. That is the same rotation for a fixed
 * list, but it stays fair when the candidate list differs per model or shrinks during failover,
 * and a newly joined node (never picked) is next in line.
 *
 * The memory is a field on the node's router stats (`lastPicked`), stamped from one
 * process-wide tick, rather than a map in the policy: with an idle fleet nearly every candidate
 * ties down to this rank, so `auto` reads it for all 1,000 nodes of a large fleet on every
 * request, and a field read costs a fraction of a map lookup. The stats object lives as long as
 * the node (it survives heartbeats and re-registration, and goes when the node is removed), so
 * nothing has to be reset. A router runs one policy, so sharing the tick between policies
 * changes nothing there; it only means that "last picked" is by any policy in the process.
 */
import { noteSelectionChange } from '../fleet/selection-changes.js';
import type { FleetNode } from '../fleet/types.js';

/** The last tick handed out; ticks only grow (2^53 picks would take millennia). */
let tick = 0;

/**
 * Orders by last pick (oldest first; 0, never picked, before any), then registration time, so
 * ties are deterministic.
 */
export function compareRotation(a: FleetNode, b: FleetNode): number {
  return a.stats.lastPicked - b.stats.lastPicked || a.registeredAt - b.registeredAt;
}

/** Records that `node` was just picked: it goes to the back of the rotation. */
export function markPicked(node: FleetNode): void {
  node.stats.lastPicked = ++tick;
  noteSelectionChange(node);
}
