/**
 * Starting llama.cpp and applying the GPU rule: a node serves from a GPU unless the operator
 * explicitly allows CPU-only service with `LLM_ALLOW_NO_GPU=true`.
 */
import type { GpuDevice } from '@llm-router/protocol';
import { getLlama, type Llama, LlamaLogLevel } from 'node-llama-cpp';
import type { Logger } from 'pino';
import { NoGpuError } from './no-gpu-error.js';

export { NoGpuError };

export interface GpuInfo {
  available: boolean;
  /** llama.cpp's backend: `cuda`, `vulkan`, `metal`, or false for CPU. */
  backend: string | false;
  devices: GpuDevice[];
  totalVramBytes: number;
}

/** Groups identical device names into `{model, count, memory}`, the shape the router expects. */
export function describeGpuDevices(names: string[], totalVramBytes: number): GpuDevice[] {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  // llama.cpp reports one VRAM total for all devices; per-device memory is the even share.
  const perDevice = names.length > 0 ? Math.floor(totalVramBytes / names.length) : 0;
  return [...counts].map(([model, count]) => ({ model, count, memory: perDevice }));
}

function forwardLlamaLogs(logger: Logger) {
  return (level: LlamaLogLevel, message: string) => {
    const text = message.trim();
    if (!text) return;
    if (level === LlamaLogLevel.fatal || level === LlamaLogLevel.error)
      logger.error({ source: 'llama.cpp' }, text);
    else if (level === LlamaLogLevel.warn) logger.warn({ source: 'llama.cpp' }, text);
    else logger.debug({ source: 'llama.cpp' }, text);
  };
}

export async function startLlama(
  options: { threads: number; allowNoGpu: boolean },
  logger: Logger,
): Promise<{ llama: Llama; gpu: GpuInfo }> {
  // `build: "never"`: a node must not try to compile llama.cpp at start (offline machines).
  const llama = await getLlama({
    gpu: 'auto',
    build: 'never',
    maxThreads: options.threads,
    logLevel: LlamaLogLevel.warn,
    logger: forwardLlamaLogs(logger),
  });
  if (!llama.gpu) {
    if (!options.allowNoGpu) {
      await llama.dispose();
      throw new NoGpuError();
    }
    logger.warn('no GPU found; serving on the CPU because LLM_ALLOW_NO_GPU=true');
    return { llama, gpu: { available: false, backend: false, devices: [], totalVramBytes: 0 } };
  }
  const [names, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
  const devices = describeGpuDevices(names.length > 0 ? names : [`${llama.gpu} GPU`], vram.total);
  logger.info({ backend: llama.gpu, devices }, 'GPU found');
  return { llama, gpu: { available: true, backend: llama.gpu, devices, totalVramBytes: vram.total } };
}
