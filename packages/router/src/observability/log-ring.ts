/** The most recent log entries, kept in memory for the dashboard's log tail. */
import { Writable } from 'node:stream';

export interface LogEntry {
  timestamp: string;
  level: string;
  target: string;
  message: string;
  fields: Record<string, unknown>;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export class LogRing extends Writable {
  private readonly entries: LogEntry[] = [];

  constructor(private readonly capacity = 1000) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const { time, level, msg, component, pid: _pid, hostname: _host, ...fields } = JSON.parse(line);
        this.entries.push({
          timestamp: new Date(time).toISOString(),
          level: LEVELS[level] ?? String(level),
          target: component ?? 'router',
          message: msg ?? '',
          fields,
        });
        if (this.entries.length > this.capacity) this.entries.shift();
      } catch {
        // Not a JSON line: nothing to index.
      }
    }
    callback();
  }

  tail(limit: number): LogEntry[] {
    return this.entries.slice(-limit);
  }
}
