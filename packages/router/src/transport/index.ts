/** What every backend shares: SSE parse/write, client abort and writes, timeouts, usage. */
export * from './channel.js';
export * from './client.js';
export * from './deadline.js';
export * from './sse.js';
export * from './sse-passthrough.js';
export * from './usage.js';
