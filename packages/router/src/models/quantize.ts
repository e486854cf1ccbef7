/**
 * Runs llama.cpp's `llama-quantize` (`LLM_QUANTIZE_BIN`) as a cache task:
 * `llama-quantize SOURCE.gguf OUTPUT.gguf TYPE`. The output goes to a hidden part file and is
 * renamed into place only after it exits cleanly and has a valid GGUF header. A missing tool
 * fails the task with a clear message; the router itself never depends on it to start.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile, partPathOf } from './download.js';
import { checkGgufFile } from './gguf.js';
import type { QuantLabel } from './quant.js';

export class QuantizeError extends Error {}

export interface QuantizeJob {
  bin: string | undefined;
  dir: string;
  sourceName: string;
  outputName: string;
  target: QuantLabel;
  signal: AbortSignal;
}

const STDERR_TAIL_BYTES = 2000;

export async function runQuantize(job: QuantizeJob): Promise<{ sizeBytes: number; sha256: string }> {
  if (!job.bin) {
    throw new QuantizeError(
      `Quantizing to ${job.target} needs llama.cpp's llama-quantize: set LLM_QUANTIZE_BIN to its path`,
    );
  }
  try {
    await access(job.bin, constants.X_OK);
  } catch {
    throw new QuantizeError(
      `LLM_QUANTIZE_BIN is '${job.bin}', which does not exist or is not executable; install llama.cpp's llama-quantize there`,
    );
  }
  const source = join(job.dir, job.sourceName);
  const part = partPathOf(job.dir, job.outputName);
  await rm(part, { force: true });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(job.bin as string, [source, part, job.target], {
      stdio: ['ignore', 'ignore', 'pipe'],
      signal: job.signal,
      killSignal: 'SIGTERM',
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (error) => {
      if (job.signal.aborted) reject(job.signal.reason);
      else reject(new QuantizeError(`llama-quantize could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      if (job.signal.aborted) return reject(job.signal.reason);
      if (code === 0) return resolve();
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      reject(
        new QuantizeError(`llama-quantize failed (${signal ?? `exit ${code}`})${tail ? `: ${tail}` : ''}`),
      );
    });
  });
  const problem = await checkGgufFile(part).catch((error: Error) => error.message);
  if (problem) {
    await rm(part, { force: true });
    throw new QuantizeError(`llama-quantize produced an invalid GGUF file (${problem})`);
  }
  const { size } = await stat(part);
  const { sha256 } = await hashFile(part, size);
  await rename(part, join(job.dir, job.outputName));
  return { sizeBytes: size, sha256 };
}
