/**
 * Live GPU numbers for heartbeats and metrics. Memory comes from llama.cpp's VRAM state (every
 * backend); utilisation and temperature only from `nvidia-smi`, when it exists (CUDA).
 */
import { execFile } from 'node:child_process';
import type { Llama } from 'node-llama-cpp';
import type { GpuInfo } from './runtime.js';

export interface GpuStats {
  gpu_usage: number | null;
  gpu_memory_usage: number | null;
  gpu_memory_total_mb: number | null;
  gpu_memory_used_mb: number | null;
  gpu_temperature: number | null;
  gpu_model_name: string | null;
}

export const NO_GPU_STATS: GpuStats = {
  gpu_usage: null,
  gpu_memory_usage: null,
  gpu_memory_total_mb: null,
  gpu_memory_used_mb: null,
  gpu_temperature: null,
  gpu_model_name: null,
};

const MB = 1024 * 1024;

function queryNvidiaSmi(): Promise<{ usage: number; temperature: number } | null> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=utilization.gpu,temperature.gpu', '--format=csv,noheader,nounits'],
      { timeout: 2000 },
      (error, stdout) => {
        if (error) return resolve(null);
        const rows = stdout
          .trim()
          .split('\n')
          .map((line) => line.split(',').map((v) => Number(v.trim())))
          .filter((row) => row.length >= 2 && row.every(Number.isFinite));
        if (rows.length === 0) return resolve(null);
        const avg = (i: number) => rows.reduce((sum, row) => sum + row[i], 0) / rows.length;
        resolve({ usage: avg(0), temperature: Math.max(...rows.map((row) => row[1])) });
      },
    );
  });
}

export class GpuSampler {
  /** Once nvidia-smi fails it is not tried again: it will not appear while we run. */
  private nvidiaSmiWorks: boolean;

  constructor(
    private readonly llama: Llama,
    private readonly gpu: GpuInfo,
  ) {
    this.nvidiaSmiWorks = gpu.backend === 'cuda';
  }

  async sample(): Promise<GpuStats> {
    if (!this.gpu.available) return NO_GPU_STATS;
    const vram = await this.llama.getVramState();
    let usage: number | null = null;
    let temperature: number | null = null;
    if (this.nvidiaSmiWorks) {
      const smi = await queryNvidiaSmi();
      if (smi) ({ usage, temperature } = smi);
      else this.nvidiaSmiWorks = false;
    }
    const clampPercent = (v: number) => Math.min(100, Math.max(0, v));
    return {
      gpu_usage: usage === null ? null : clampPercent(usage),
      gpu_memory_usage: vram.total > 0 ? clampPercent((vram.used / vram.total) * 100) : null,
      gpu_memory_total_mb: Math.round(vram.total / MB),
      gpu_memory_used_mb: Math.round(vram.used / MB),
      gpu_temperature: temperature,
      gpu_model_name: this.gpu.devices[0]?.model ?? null,
    };
  }
}
