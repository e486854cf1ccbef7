/**
 * One model in memory: the llama.cpp model, one context with `parallel` sequences shared
 * through a queue, the chat template, and (lazily) an embedding context.
 */
import type { ModelCapability } from '@llm-router/protocol';
import {
  type ChatWrapper,
  type GgufFileInfo,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  resolveChatWrapper,
} from 'node-llama-cpp';
import { EmbeddingRunner } from '../inference/embeddings.js';
import { SequencePool } from '../inference/sequence-pool.js';
import type { CatalogEntry } from './catalog.js';

/** Encoder-only architectures: they embed but cannot generate text. */
const EMBEDDING_ONLY_ARCHITECTURES = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'neo-bert',
  'modern-bert',
  't5encoder',
]);

export function capabilitiesOf(info: GgufFileInfo): ModelCapability[] {
  const architecture = String(info.metadata?.general?.architecture ?? '');
  return EMBEDDING_ONLY_ARCHITECTURES.has(architecture)
    ? ['embeddings']
    : ['chat', 'completion', 'embeddings'];
}

export interface LoadOptions {
  contextSize: number;
  parallel: number;
  queueLimit: number;
  threads: number;
}

export class LoadedModel {
  /** When this copy was loaded: the router drops what it assumed about the KV caches when it moves. */
  readonly loadedAt = Date.now();

  private constructor(
    readonly id: string,
    readonly model: LlamaModel,
    private readonly context: LlamaContext | null,
    /** Null for embedding-only models. */
    readonly pool: SequencePool<LlamaContextSequence> | null,
    /** Tokens per sequence (what one request may use). */
    readonly contextSize: number,
    /** The GGUF's own chat template; null when the file has none (the plain template is used). */
    readonly chatWrapper: ChatWrapper | null,
    readonly capabilities: ModelCapability[],
    readonly embeddings: EmbeddingRunner,
    /** Requests that may wait for a sequence before the node answers 503. */
    readonly queueLimit: number,
  ) {}

  static async load(llama: Llama, entry: CatalogEntry, options: LoadOptions): Promise<LoadedModel> {
    const model = await llama.loadModel({ modelPath: entry.path });
    try {
      const capabilities = capabilitiesOf(model.fileInfo);
      const trainContext = model.trainContextSize > 0 ? model.trainContextSize : options.contextSize;
      const contextSize = Math.min(options.contextSize, trainContext);
      let context: LlamaContext | null = null;
      let pool: SequencePool<LlamaContextSequence> | null = null;
      if (capabilities.includes('chat')) {
        context = await model.createContext({
          contextSize,
          sequences: options.parallel,
          threads: options.threads,
        });
        const sequences = Array.from({ length: options.parallel }, () => context!.getSequence());
        pool = new SequencePool(sequences, options.queueLimit);
      }
      const template = model.fileInfo.metadata?.tokenizer?.chat_template;
      const chatWrapper =
        typeof template === 'string' && template.trim() !== '' ? resolveChatWrapper(model) : null;
      const embeddings = new EmbeddingRunner(model, { contextSize, threads: options.threads });
      return new LoadedModel(
        entry.id,
        model,
        context,
        pool,
        context?.contextSize ?? contextSize,
        chatWrapper,
        capabilities,
        embeddings,
        options.queueLimit,
      );
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  /** Waits for running requests to finish (new ones are refused), then frees the memory. */
  async unload(): Promise<void> {
    this.pool?.close();
    await this.pool?.whenIdle();
    await this.embeddings.dispose();
    await this.context?.dispose();
    await this.model.dispose();
  }
}
