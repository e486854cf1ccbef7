/** Nodes with just the signals a balancer reads, at a fixed "now". */
import type { FleetNode, NodeMetrics } from '../../src/fleet/types.js';
import { makeFleetNode } from '../proxy/helpers/fake-fleet.js';

export const NOW = 1_800_000_000_000;
export const now = () => NOW;
const FRESH = NOW - 5_000;
const STALE = NOW - 121_000;

export function node(
  id: string,
  metrics: Partial<NodeMetrics> & { stale?: boolean; fresh?: boolean } = {},
  stats: Partial<FleetNode['stats']> = {},
): FleetNode {
  const { stale, fresh, ...rest } = metrics;
  const updatedAt = stale ? STALE : fresh === false ? null : FRESH;
  return makeFleetNode({ id, metrics: { updatedAt, ...rest }, stats });
}

/** Selects `count` times from the same candidates and returns the ids chosen. */
export function picks(
  select: (c: FleetNode[]) => FleetNode | undefined,
  candidates: FleetNode[],
  count: number,
) {
  return Array.from({ length: count }, () => select(candidates)?.id);
}

/** Failover order: select repeatedly, removing each node once chosen. */
export function failoverOrder(select: (c: FleetNode[]) => FleetNode | undefined, candidates: FleetNode[]) {
  const left = [...candidates];
  const order: string[] = [];
  for (let chosen = select(left); chosen; chosen = select(left)) {
    order.push(chosen.id);
    left.splice(left.indexOf(chosen), 1);
  }
  return order;
}
