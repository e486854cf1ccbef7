/** Thrown at start when no GPU is usable and CPU-only service was not allowed. */
export class NoGpuError extends Error {
  constructor() {
    super(
      'No GPU found: llama.cpp could not start any GPU backend (CUDA, Vulkan or Metal) on this machine. ' +
        'llm-node serves models from a GPU; to run on the CPU anyway, set LLM_ALLOW_NO_GPU=true.',
    );
    this.name = 'NoGpuError';
  }
}
