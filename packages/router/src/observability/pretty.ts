/** Human-readable log lines for a terminal: `12:00:01 INFO  message key=value`. */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

export class PrettyConsole extends Writable {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const { time, level, msg, pid: _pid, hostname: _host, ...fields } = JSON.parse(line);
        const extras = Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const clock = new Date(time).toISOString().slice(11, 19);
        this.out.write(`${clock} ${LEVELS[level] ?? level} ${msg ?? ''}${extras ? ` ${extras}` : ''}\n`);
      } catch {
        this.out.write(`${line}\n`);
      }
    }
    callback();
  }
}
