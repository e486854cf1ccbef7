/** Periodically marks nodes offline when their heartbeats stop (LLM_ROUTER_NODE_TIMEOUT). */
import type { NodeRegistry } from './registry.js';

export function startHealthMonitor(
  registry: NodeRegistry,
  intervalMs: number,
  timeoutMs: number,
): () => void {
  const timer = setInterval(() => registry.expireSilentNodes(timeoutMs), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
