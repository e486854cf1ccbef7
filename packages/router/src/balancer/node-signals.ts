/**
 * What the policies read from a node, in one place so every policy interprets the heartbeat
 * the same way (freshness, combined load, latency), plus the small ordering helpers they share.
 */
import type { FleetNode } from '../fleet/types.js';

/** Heartbeat metrics older than this are not trusted for load decisions (upstream: 120 s). */
export const METRICS_FRESH_MS = 120_000;
/** Above this CPU percentage a node is considered busy (upstream's 80 % tier). */
export const CPU_BUSY_PERCENT = 80;

export function hasFreshMetrics(node: FleetNode, now: number): boolean {
  const updatedAt = node.metrics.updatedAt;
  return updatedAt !== null && now - updatedAt <= METRICS_FRESH_MS;
}

/**
 * The node's own active count plus the router's in-flight count. A stale heartbeat's count is
 * ignored: a burst reported minutes ago says nothing about the node now, while the router's own
 * count is always current.
 */
export function combinedActive(node: FleetNode, now: number): number {
  return node.stats.inFlight + (hasFreshMetrics(node, now) ? node.metrics.activeRequests : 0);
}

/** True when the node's CPU is at or below the busy threshold (unknown CPU is not penalised). */
export function isCpuCool(node: FleetNode): boolean {
  const cpu = node.metrics.cpuUsage;
  return cpu === null || cpu <= CPU_BUSY_PERCENT;
}

/** Heartbeat average if the node reports one, else the router's measured mean, else null. */
export function effectiveAverageMs(node: FleetNode): number | null {
  if (node.metrics.averageResponseTimeMs !== null) return node.metrics.averageResponseTimeMs;
  const finished = node.stats.successes + node.stats.failures;
  return finished > 0 ? node.stats.latencySumMs / finished : null;
}

export type Compare<T> = (a: T, b: T) => number;

/** Ascending, with missing values after every known one. */
export function ascendingMissingLast(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return a - b;
}

/** Descending, with missing values after every known one. */
export function descendingMissingLast(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return b - a;
}

/** cpu, mem, gpu, gpu_mem ascending, each with missing values last. */
export function compareUsage(a: FleetNode, b: FleetNode): number {
  const x = a.metrics;
  const y = b.metrics;
  return (
    ascendingMissingLast(x.cpuUsage, y.cpuUsage) ||
    ascendingMissingLast(x.memoryUsage, y.memoryUsage) ||
    ascendingMissingLast(x.gpuUsage, y.gpuUsage) ||
    ascendingMissingLast(x.gpuMemoryUsage, y.gpuMemoryUsage)
  );
}

/** GPU capability score, best first. */
export function compareCapability(a: FleetNode, b: FleetNode): number {
  return descendingMissingLast(a.metrics.gpuCapabilityScore, b.metrics.gpuCapabilityScore);
}

/** The first item no other item beats: a linear scan, so selection stays O(candidates). */
export function pickBest<T>(items: readonly T[], compare: Compare<T>): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined || compare(item, best) < 0) best = item;
  }
  return best;
}
