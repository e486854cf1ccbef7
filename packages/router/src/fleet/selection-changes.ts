/**
 * Which nodes' selection keys changed, in order: a short log that lets a balancer keep its
 * candidates ordered (balancer/auto.ts keeps tournament trees per candidate list) instead of reading every
 * node on every request. Everything that changes what a policy compares (a heartbeat's
 * metrics, a request starting or ending on the node, a pick) notes the node here; a reader
 * keeps the position it has read up to and, if it fell more than the log's length behind,
 * rebuilds from the nodes themselves.
 *
 * One log per process, like the round-robin tick (rotation.ts): a reader skips the nodes it
 * does not hold, so several fleets in one process (tests) only cost each other a lookup.
 */
import type { FleetNode } from './types.js';

/** A power of two. A reader that is further behind than this rebuilds instead. */
export const SELECTION_CHANGE_LOG_SIZE = 4096;
const MASK = SELECTION_CHANGE_LOG_SIZE - 1;

const log: (FleetNode | undefined)[] = new Array(SELECTION_CHANGE_LOG_SIZE).fill(undefined);
let written = 0;

/** Records that something a balancer compares changed on `node`. */
export function noteSelectionChange(node: FleetNode): void {
  log[written & MASK] = node;
  written++;
}

/** How many changes have been noted so far: a reader's position. */
export function selectionChangeCount(): number {
  return written;
}

/** The node of change number `at`; valid while `selectionChangeCount() - at <= SELECTION_CHANGE_LOG_SIZE`. */
export function changedNodeAt(at: number): FleetNode {
  return log[at & MASK] as FleetNode;
}
