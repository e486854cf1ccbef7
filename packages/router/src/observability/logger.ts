/**
 * Router logs: pino JSON lines. Credentials never reach a log line: pino's redaction masks the
 * headers and fields that can carry them.
 */
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-node-token"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-node-token"]',
  'password',
  '*.password',
  'key',
  '*.key',
  'token',
  '*.token',
  'node_token',
  '*.node_token',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination ?? process.stdout);
}
