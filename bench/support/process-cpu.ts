/**
 * CPU seconds (user + system) a process has used so far, all its threads together; with
 * `mainThread`, only its main thread's (the event loop that serves requests: what bounds a
 * Node.js server's throughput, while worker threads run on other cores). Read from `/proc`;
 * NaN without a pid.
 */
import { readFileSync } from 'node:fs';

export function cpuSeconds(pid: number | undefined, mainThread = false): number {
  if (!pid) return Number.NaN;
  const stat = mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}
