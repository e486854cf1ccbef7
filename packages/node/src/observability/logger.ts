/**
 * Node logs: pino JSON lines to `<log dir>/llm-node.jsonl`, to stdout for the CLI, and into a
 * bounded in-memory ring that `GET /v0/logs` reads. Credentials never reach a log line.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

export const LOG_FILE_NAME = 'llm-node.jsonl';
const RING_CAPACITY = 1000;

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-node-token"]',
  'headers.authorization',
  'headers["x-node-token"]',
  'apiKey',
  'token',
  'node_token',
  '*.node_token',
];

export interface LogEntry {
  timestamp: string;
  level: string;
  message: string;
  [field: string]: unknown;
}

/** The most recent log entries, oldest first; memory stays bounded by the capacity. */
export class LogRing {
  private readonly entries: LogEntry[] = [];

  constructor(private readonly capacity = RING_CAPACITY) {}

  write(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { time, level, msg, pid: _pid, hostname: _hostname, ...fields } = record;
    this.entries.push({
      ...fields,
      timestamp: new Date(typeof time === 'number' ? time : Date.now()).toISOString(),
      level: typeof level === 'number' ? (pino.levels.labels[level] ?? String(level)) : String(level),
      message: typeof msg === 'string' ? msg : '',
    });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  tail(count: number): LogEntry[] {
    return this.entries.slice(-count);
  }
}

export interface NodeLogging {
  logger: Logger;
  ring: LogRing;
  /** The JSON-lines file, or null when the log directory could not be created. */
  filePath: string | null;
  setLevel(level: LogLevel): void;
  close(): void;
}

export function createNodeLogging(options: {
  level: LogLevel;
  logDir: string;
  toStdout: boolean;
}): NodeLogging {
  const ring = new LogRing();
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: ring }];
  let filePath: string | null = join(options.logDir, LOG_FILE_NAME);
  let file: (pino.DestinationStream & { flushSync?: () => void; end?: () => void }) | null = null;
  let fileProblem: string | null = null;
  try {
    mkdirSync(options.logDir, { recursive: true });
    file = pino.destination({ dest: filePath, sync: false, append: true });
    streams.push({ level: 'trace', stream: file });
  } catch (error) {
    fileProblem = (error as Error).message;
    filePath = null;
  }
  if (options.toStdout) streams.push({ level: 'trace', stream: pino.destination({ dest: 1, sync: false }) });
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
  if (fileProblem)
    logger.warn(
      { logDir: options.logDir, error: fileProblem },
      'cannot write the log file; logging to memory only',
    );
  return {
    logger,
    ring,
    filePath,
    setLevel(level) {
      logger.level = level;
    },
    close() {
      try {
        file?.flushSync?.();
        file?.end?.();
      } catch {
        // The file may not be open yet (async destination); nothing is lost but the last lines.
      }
    },
  };
}
