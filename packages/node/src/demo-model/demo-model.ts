/**
 * The demo model `make start` serves on a fresh, offline machine: a tiny llama-architecture
 * GGUF this project generates itself, with seeded random weights (the same bytes every time)
 * and a small SentencePiece-style vocabulary. It loads and generates tokens like any model;
 * its output is gibberish because it was never trained.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeGguf, type GgufTensor, type GgufValue } from './gguf-writer.js';

export const DEMO_MODEL_NAME = 'LLM Router demo model (random weights, untrained: output is gibberish)';

const HYPER = { embd: 64, heads: 4, headsKv: 4, ff: 128, layers: 2, context: 1024 } as const;

/** Model dimensions; benchmarks build larger models (prefill cost is what they measure). */
export interface DemoModelShape {
  embd: number;
  heads: number;
  headsKv: number;
  ff: number;
  layers: number;
  context: number;
}

/** SentencePiece token types (llama.cpp): normal, unknown, control, byte. */
const TokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

const WORDS =
  `the a and to was she he it in of is you that with for on they be at one have this from or had by
not but what all were we when your can said there an each which do how their if will up other about out many
then them these so some her would make like him into time has look two more write go see number no way could
people my than first water been call who its now find long down day did get come made may part hello world demo
model random weights router node llama story little big happy play friend sun tree cat dog`.split(/\s+/);
const SUFFIXES = ['ing', 'ed', 'er', 'ly', 'es', 'est'];
const CHARS = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'"-:;()`.split('');

interface Vocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

/**
 * Every multi-character piece comes with all its prefixes, so llama.cpp's SentencePiece merge
 * (pairs of existing pieces, best score first) can always build it from single characters.
 */
function buildVocab(extraControlTokens: string[]): Vocab {
  const vocab: Vocab = { tokens: [], scores: [], types: [] };
  const add = (token: string, type: number, score = 0) => {
    vocab.tokens.push(token);
    vocab.types.push(type);
    vocab.scores.push(score);
  };
  add('<unk>', TokenType.unknown);
  add('<s>', TokenType.control);
  add('</s>', TokenType.control);
  for (let byte = 0; byte < 256; byte++) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, TokenType.byte);
  }
  for (const token of extraControlTokens) add(token, TokenType.control);
  const pieces = new Set<string>();
  for (const piece of [...WORDS.map((w) => `▁${w}`), ...SUFFIXES]) {
    for (let end = 2; end <= piece.length; end++) pieces.add(piece.slice(0, end));
  }
  let rank = 0;
  for (const piece of pieces) add(piece, TokenType.normal, -rank++);
  for (const char of ['▁', ...CHARS]) if (!pieces.has(char)) add(char, TokenType.normal, -rank++);
  return vocab;
}

/** mulberry32: a small seeded PRNG, so the demo model is byte-for-byte reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussianFiller(random: () => number) {
  return (count: number, std: number) => {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      // Box-Muller: two normal samples from two uniform ones.
      const radius = Math.sqrt(-2 * Math.log(1 - random())) * std;
      const angle = 2 * Math.PI * random();
      data[i] = radius * Math.cos(angle);
      if (i + 1 < count) data[i + 1] = radius * Math.sin(angle);
    }
    return data;
  };
}

export interface DemoModelOptions {
  seed?: number;
  /** A Jinja chat template to embed (tests use it to exercise the template path). */
  chatTemplate?: string;
  /** Dimensions other than the demo's tiny default ones. */
  shape?: Partial<DemoModelShape>;
}

export function buildDemoModel(options: DemoModelOptions = {}): Buffer {
  const { embd, heads, headsKv, ff, layers, context } = { ...HYPER, ...options.shape };
  const controlTokens = options.chatTemplate ? ['<|im_start|>', '<|im_end|>'] : [];
  const vocab = buildVocab(controlTokens);
  const vocabSize = vocab.tokens.length;
  const normal = gaussianFiller(seededRandom(options.seed ?? 20261126));
  const ones = (count: number) => new Float32Array(count).fill(1);
  const kvDim = (embd / heads) * headsKv;

  const output = normal(embd * vocabSize, 0.5);
  // Zero logits for control and byte tokens: greedy decoding then always picks a text piece,
  // so replies are readable gibberish and never end before they start.
  vocab.types.forEach((type, token) => {
    if (type !== TokenType.normal) output.fill(0, token * embd, (token + 1) * embd);
  });

  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dims: [embd, vocabSize], data: normal(embd * vocabSize, 1) },
    { name: 'output_norm.weight', dims: [embd], data: ones(embd) },
    { name: 'output.weight', dims: [embd, vocabSize], data: output },
  ];
  for (let layer = 0; layer < layers; layer++) {
    const block = (name: string, dims: number[], data: Float32Array) =>
      tensors.push({ name: `blk.${layer}.${name}.weight`, dims, data });
    block('attn_norm', [embd], ones(embd));
    block('attn_q', [embd, embd], normal(embd * embd, 0.1));
    block('attn_k', [embd, kvDim], normal(embd * kvDim, 0.1));
    block('attn_v', [embd, kvDim], normal(embd * kvDim, 0.1));
    block('attn_output', [embd, embd], normal(embd * embd, 0.1));
    block('ffn_norm', [embd], ones(embd));
    block('ffn_gate', [embd, ff], normal(embd * ff, 0.1));
    block('ffn_down', [ff, embd], normal(ff * embd, 0.1));
    block('ffn_up', [embd, ff], normal(embd * ff, 0.1));
  }

  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: DEMO_MODEL_NAME }],
    ['general.description', { type: 'string', value: 'Generated by llm-node demo-model; not trained.' }],
    ['llama.context_length', u32(context)],
    ['llama.embedding_length', u32(embd)],
    ['llama.feed_forward_length', u32(ff)],
    ['llama.attention.head_count', u32(heads)],
    ['llama.attention.head_count_kv', u32(headsKv)],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.block_count', u32(layers)],
    ['llama.rope.dimension_count', u32(embd / heads)],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', values: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', values: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
  ];
  if (options.chatTemplate)
    metadata.push(['tokenizer.chat_template', { type: 'string', value: options.chatTemplate }]);
  return encodeGguf(metadata, tensors);
}

/** Writes the demo model to `path` (directories are created) and returns its size in bytes. */
export async function writeDemoModel(path: string, options: DemoModelOptions = {}): Promise<number> {
  const bytes = buildDemoModel(options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return bytes.length;
}
