/**
 * Host CPU and memory load, as the router's balancer sees it. CPU usage is the busy share of
 * all cores between two samples (os.cpus() counters only ever grow), so each consumer keeps
 * its own sampler and gets the load over its own interval.
 */
import { cpus, freemem, totalmem } from 'node:os';

interface CpuTimes {
  busy: number;
  total: number;
}

function readCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

export class CpuSampler {
  private previous: CpuTimes;

  constructor(private readonly read: () => CpuTimes = readCpuTimes) {
    // The first reading is since boot: a real (if long-term) average until the next sample.
    this.previous = { busy: 0, total: 0 };
  }

  /** Percent of all cores busy since the previous call, 0..100. */
  sample(): number {
    const now = this.read();
    const busy = now.busy - this.previous.busy;
    const total = now.total - this.previous.total;
    this.previous = now;
    if (total <= 0) return 0;
    return Math.min(100, Math.max(0, (busy / total) * 100));
  }
}

/** Percent of host memory in use (total minus what the OS reports available). */
export function memoryUsagePercent(): number {
  const total = totalmem();
  return total > 0 ? Math.min(100, Math.max(0, ((total - freemem()) / total) * 100)) : 0;
}
