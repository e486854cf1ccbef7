/**
 * Runs `promtool check metrics` (Debian package `prometheus`) on a metrics exposition, as
 * Prometheus itself would judge it: returns promtool's exit code and its complaints.
 */
import { spawn } from 'node:child_process';

export function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
    child.stdin.end(text);
  });
}
