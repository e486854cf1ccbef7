/**
 * Runs a benchmark's fake server in a process of its own, as a real node runs on its own
 * machine: a fake node sharing the benchmark client's event loop would be in the middle of
 * every measurement (the client waits while the same thread plays the node).
 */
import { spawn } from 'node:child_process';

export interface SpawnedServer {
  url: string;
  pid?: number;
  close(): Promise<void>;
}

/** Starts `node --import tsx <script> ...args`, which prints "listening <url>" when ready. */
export function spawnServer(script: string, args: string[] = []): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill()); // never outlive the benchmark, even when it fails
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.stdout?.on('data', (data: Buffer) => {
      const match = /listening (\S+)/.exec(String(data));
      if (match)
        resolve({
          url: match[1],
          pid: child.pid,
          close: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill();
            }),
        });
    });
  });
}
