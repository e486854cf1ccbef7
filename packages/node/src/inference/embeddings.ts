/**
 * Embeddings for one model. The embedding context is created on first use (most requests are
 * for generation) and used by one request at a time: llama.cpp embeds a whole input in one
 * batch, so queuing here costs little and keeps memory flat.
 */
import type { LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';

export class InputTooLongError extends Error {
  constructor(
    readonly index: number,
    readonly tokens: number,
    readonly limit: number,
  ) {
    super(`Input ${index} has ${tokens} tokens, more than this model's embedding context of ${limit} tokens`);
  }
}

export class EmbeddingRunner {
  private context: Promise<LlamaEmbeddingContext> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly model: LlamaModel,
    private readonly options: { contextSize: number; threads: number },
  ) {}

  /** Embeds each input in order; `promptTokens` counts the tokens the model actually read. */
  embed(inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }> {
    const run = this.queue.then(() => this.embedNow(inputs, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    const context = this.context;
    this.context = null;
    await this.queue;
    if (context) await (await context.catch(() => null))?.dispose();
  }

  private async embedNow(inputs: string[], signal: AbortSignal) {
    signal.throwIfAborted();
    if (!this.context) {
      this.context = this.model.createEmbeddingContext({
        contextSize: this.options.contextSize,
        threads: this.options.threads,
      });
      this.context.catch(() => {
        this.context = null;
      });
    }
    const context = await this.context;
    const lengths = inputs.map((input) => context.calculateInputLength(input));
    lengths.forEach((tokens, index) => {
      if (tokens > this.options.contextSize)
        throw new InputTooLongError(index, tokens, this.options.contextSize);
    });
    const vectors: number[][] = [];
    for (const input of inputs) {
      signal.throwIfAborted();
      vectors.push([...(await context.getEmbeddingFor(input)).vector]);
    }
    return { vectors, promptTokens: lengths.reduce((a, b) => a + b, 0) };
  }
}

/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32 bytes. */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}
