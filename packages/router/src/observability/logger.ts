/**
 * Router logs: pino JSON lines to a daily file (with retention), readable lines on a terminal
 * (JSON when stdout is not a TTY), and an in-memory tail for the dashboard. Credentials never
 * reach a log line: redaction masks the headers and fields that can carry them.
 */
import pino, { type Logger } from 'pino';
import { DailyLogFile } from './daily-file.js';
import { LogRing } from './log-ring.js';
import { PrettyConsole } from './pretty.js';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-node-token"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-node-token"]',
  'authorization',
  'password',
  '*.password',
  'key',
  '*.key',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'node_token',
  '*.node_token',
];

/** Masks credential-looking substrings in free text (messages, error strings). */
export function maskSecrets(text: string): string {
  return text
    .replace(/\bsk_[A-Za-z0-9]{8,}/g, 'sk_***')
    .replace(/\bnt_[0-9a-f-]{8,}/gi, 'nt_***')
    .replace(/\binv_[A-Za-z0-9]{8,}/g, 'inv_***')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1***');
}

export interface RouterLogging {
  log: Logger;
  ring: LogRing;
  /** The file being written today, if file logging is on. */
  currentFile(): string | null;
  close(): void;
}

export interface LoggingOptions {
  level: string;
  dir?: string;
  retentionDays?: number;
  /** Where console output goes; pretty when it is a TTY. Null silences the console. */
  console?: NodeJS.WriteStream | null;
}

const pinoOptions = (level: string): pino.LoggerOptions => ({
  level,
  redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  hooks: {
    logMethod(args, method) {
      const masked = args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)) as typeof args;
      method.apply(this, masked);
    },
  },
});

export function createRouterLogging(options: LoggingOptions): RouterLogging {
  const ring = new LogRing();
  const file = options.dir ? new DailyLogFile(options.dir, options.retentionDays ?? 7) : null;
  const consoleOut = options.console === undefined ? process.stdout : options.console;
  const streams: pino.StreamEntry[] = [{ stream: ring, level: 'trace' }];
  if (file) streams.push({ stream: file, level: 'trace' });
  if (consoleOut)
    streams.push({ stream: consoleOut.isTTY ? new PrettyConsole(consoleOut) : consoleOut, level: 'trace' });
  const log = pino(pinoOptions(options.level), pino.multistream(streams));
  const retentionTimer = file ? setInterval(() => file.deleteExpired(), 3_600_000) : undefined;
  retentionTimer?.unref();
  return {
    log,
    ring,
    currentFile: () => file?.currentPath ?? null,
    close() {
      clearInterval(retentionTimer);
      file?.end();
    },
  };
}

/** A plain logger (console only), for tools and tests. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(pinoOptions(level), destination ?? process.stdout);
}
