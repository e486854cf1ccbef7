#!/usr/bin/env node
/** `llm-node`: runs the inference node, or writes the demo model. */
import { helpText, USAGE } from './cli/help.js';
import { loadNodeConfig } from './config/config.js';
import { ConfigError } from './config/env.js';
import { DEMO_MODEL_NAME, writeDemoModel } from './demo-model/demo-model.js';
import { NoGpuError } from './llama/no-gpu-error.js';
import { NODE_VERSION } from './version.js';

class UsageError extends Error {}

async function runNode(): Promise<void> {
  const config = loadNodeConfig();
  // Loaded only to serve: llama.cpp's bindings take a moment that --help should not pay.
  const { startNode } = await import('./main.js');
  const node = await startNode(config);
  const log = node.services.log;
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    node.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('uncaughtException', (error) => {
    // State is unknown after an uncaught exception: stop cleanly and let a supervisor restart us.
    log.fatal({ err: error }, 'uncaught exception');
    shutdown('uncaughtException');
  });
}

async function demoModel(args: string[]): Promise<void> {
  if (args.length !== 1 || args[0].startsWith('-'))
    throw new UsageError('demo-model needs exactly one <path>');
  const size = await writeDemoModel(args[0]);
  process.stdout.write(`Wrote ${args[0]} (${size} bytes): ${DEMO_MODEL_NAME}\n`);
}

async function main(args: string[]): Promise<void> {
  const [first, ...rest] = args;
  if (first === '--help' || first === '-h') {
    process.stdout.write(helpText(NODE_VERSION));
    return;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${NODE_VERSION}\n`);
    return;
  }
  if (first === 'demo-model') return demoModel(rest);
  if (first !== undefined) throw new UsageError(`Unknown argument: ${first}`);
  await runNode();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`llm-node: ${error.message}\n\n${USAGE}\n`);
  } else if (error instanceof ConfigError || error instanceof NoGpuError) {
    process.stderr.write(`llm-node: ${error.message}\n`);
  } else {
    process.stderr.write(`llm-node: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
});
