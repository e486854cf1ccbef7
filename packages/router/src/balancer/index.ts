/** Builds the policy that `LLM_ROUTER_LOAD_BALANCER_MODE` names (config already rejected unknown modes). */
import type { BalancerMode } from '../config/config.js';
import { createAutoPolicy } from './auto.js';
import { type CacheAwareOptions, createCacheAwarePolicy } from './cache_aware.js';
import { createLeastLoadedPolicy } from './least_loaded.js';
import { createMetricsPolicy } from './metrics.js';
import { createRoundRobinPolicy } from './round_robin.js';
import type { BalancerOptions, BalancerPolicy } from './types.js';

export type { BalancerOptions, BalancerPolicy, BalancerRequest } from './types.js';

export function createBalancer(
  mode: BalancerMode,
  options: BalancerOptions & CacheAwareOptions = {},
): BalancerPolicy {
  switch (mode) {
    case 'auto':
      return createAutoPolicy(options);
    case 'metrics':
      return createMetricsPolicy(options);
    case 'round_robin':
      return createRoundRobinPolicy();
    case 'least_loaded':
      return createLeastLoadedPolicy(options);
    case 'cache_aware':
      return createCacheAwarePolicy(options);
  }
}
