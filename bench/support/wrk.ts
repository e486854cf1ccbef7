/**
 * Runs wrk (one thread, N connections) against a POST endpoint and returns its figures as
 * numbers: a small Lua script sets the request and prints a JSON summary from wrk's own
 * latency histogram, so nothing is parsed out of wrk's human-readable report.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers outside 2xx/3xx plus socket errors (connect, read, write, timeout). */
  failures: number;
  /** Which failures: non-2xx/3xx status, connect, read, write, timeout. */
  failureKinds: string;
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function runWrk(
  url: string,
  options: { connections: number; seconds: number; body: string; headers?: Record<string, string> },
): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'post.lua');
  const headers = { 'content-type': 'application/json', ...options.headers };
  writeFileSync(
    script,
    `wrk.method = "POST"
wrk.body = ${luaString(options.body)}
${Object.entries(headers)
  .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
  .join('\n')}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"us":%d,"p50":%d,"p99":%d,"failures":%d,"kinds":"status %d, connect %d, read %d, write %d, timeout %d"}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout, e.status, e.connect, e.read, e.write, e.timeout))
end
`,
  );
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', script, url],
      (error, stdout) => {
        rmSync(dir, { recursive: true, force: true });
        if (error) return reject(error);
        const line = stdout.split('\n').find((l) => l.startsWith('WRK '));
        if (!line) return reject(new Error(`no summary from wrk: ${stdout}`));
        const r = JSON.parse(line.slice(4));
        resolve({
          requests: r.requests,
          rps: r.requests / (r.us / 1e6),
          p50Ms: r.p50 / 1000,
          p99Ms: r.p99 / 1000,
          failures: r.failures,
          failureKinds: r.kinds,
        });
      },
    );
  });
}
