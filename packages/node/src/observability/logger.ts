/**
 * Node logs: pino JSON lines to a daily file `<log dir>/llm-node.jsonl.YYYY-MM-DD` (files
 * older than the retention are deleted), to stdout for the CLI, and into a bounded in-memory
 * ring that `GET /v0/logs` reads. Credentials never reach a log line.
 */
import { DailyJsonlFile } from '@llm-router/protocol/daily-log-file';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/** Daily files are this name plus `.YYYY-MM-DD` (UTC). */
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
  /** Today's JSON-lines file, or null when the log directory could not be created. */
  readonly filePath: string | null;
  setLevel(level: LogLevel): void;
  close(): void;
}

export function createNodeLogging(options: {
  level: LogLevel;
  logDir: string;
  /** Days of daily files kept (default 7). */
  retentionDays?: number;
  toStdout: boolean;
  /** The clock, for tests of rotation. */
  now?: () => number;
}): NodeLogging {
  const ring = new LogRing();
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: ring }];
  let file: DailyJsonlFile | null = null;
  let fileProblem: string | null = null;
  try {
    file = new DailyJsonlFile(options.logDir, `${LOG_FILE_NAME}.`, options.retentionDays ?? 7, options.now);
    streams.push({ level: 'trace', stream: file });
  } catch (error) {
    fileProblem = (error as Error).message;
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
  // A node that runs for weeks without writing on a given day still drops expired files.
  const retentionTimer = file ? setInterval(() => file?.deleteExpired(), 3_600_000) : undefined;
  retentionTimer?.unref();
  return {
    logger,
    ring,
    get filePath() {
      return file?.currentPath ?? null;
    },
    setLevel(level) {
      logger.level = level;
    },
    close() {
      clearInterval(retentionTimer);
      file?.end();
    },
  };
}
