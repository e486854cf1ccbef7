export * from './anthropic.js';
export * from './endpoints.js';
export * from './errors.js';
export * from './make-dir.js';
export * from './node-protocol.js';
export * from './openai.js';
export * from './scopes.js';
export * from './trace-context.js';
