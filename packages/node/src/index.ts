/** Public surface of `@llm-router/node`. */
export { NodeAgent } from './agent/agent.js';
export { identityFile, loadOrCreateNodeId } from './agent/node-identity.js';
export { defaultThreadCount, detectNodeIp, loadNodeConfig, type NodeConfig } from './config/config.js';
export { ConfigError } from './config/env.js';
export { buildDemoModel, DEMO_MODEL_NAME, writeDemoModel } from './demo-model/demo-model.js';
export { NoGpuError } from './llama/runtime.js';
export { type RunningNode, startNode } from './main.js';
export { scanModelsDir } from './models/catalog.js';
