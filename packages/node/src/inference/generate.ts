/**
 * Token generation on one leased context sequence. Completion tokens are counted from the
 * generator's token callbacks (what was actually produced), never by re-tokenizing text.
 */
import { LlamaCompletion, type LlamaContextSequence, type LlamaText, type Token } from 'node-llama-cpp';
import { reusableTokens, sequenceInput } from './prefix-cache.js';
import { StopStringMatcher } from './stop-strings.js';

/** llama.cpp's own default; OpenAI's is 1.0, but 0.8 suits small local models better. */
export const DEFAULT_TEMPERATURE = 0.8;

export interface SamplingOptions {
  maxTokens?: number | null;
  temperature?: number | null;
  topP?: number | null;
  seed?: number | null;
  stop: string[];
  presencePenalty?: number | null;
  frequencyPenalty?: number | null;
}

export interface GenerateInput {
  tokens: Token[];
  /** Template end-of-turn markers: text stops here, special-token triggers go to llama.cpp. */
  stopTriggers: (LlamaText | string)[];
  sampling: SamplingOptions;
  signal: AbortSignal;
  /** Text as it is produced (already past any stop-string hold-back). */
  onText?: (text: string) => void;
  /** Tokens as they are produced, for live counters (aborted requests count too). */
  onTokens?: (count: number) => void;
}

export interface GenerateOutput {
  text: string;
  completionTokens: number;
  finishReason: 'stop' | 'length';
  seconds: number;
  /** Prompt tokens already in the sequence's KV cache, not evaluated again. */
  cachedTokens: number;
}

/**
 * OpenAI's penalties subtract from the logits of tokens already generated, which is what
 * llama.cpp's presence/frequency penalties do. No penalty asked for means none applied
 * (node-llama-cpp would otherwise add its 1.1 repeat penalty by default).
 */
function repeatPenaltyFor(sampling: SamplingOptions) {
  const presencePenalty = sampling.presencePenalty ?? 0;
  const frequencyPenalty = sampling.frequencyPenalty ?? 0;
  if (presencePenalty === 0 && frequencyPenalty === 0) return false as const;
  return { penalty: 1, presencePenalty, frequencyPenalty, penalizeNewLine: true, lastTokens: 64 };
}

export async function generate(
  sequence: LlamaContextSequence,
  input: GenerateInput,
): Promise<GenerateOutput> {
  const { sampling } = input;
  const textStops = input.stopTriggers.filter((t): t is string => typeof t === 'string');
  const tokenStops = input.stopTriggers.filter((t) => typeof t !== 'string');
  const matcher = new StopStringMatcher([...textStops, ...sampling.stop]);
  // One internal signal ends generation early without an exception, for a matched stop string
  // or a client that went away; which of the two happened is decided afterwards.
  const halt = new AbortController();
  const onClientAbort = () => halt.abort();
  input.signal.addEventListener('abort', onClientAbort, { once: true });
  if (input.signal.aborted) halt.abort();

  let text = '';
  const emit = (chunk: string) => {
    if (chunk === '') return;
    text += chunk;
    input.onText?.(chunk);
  };
  // Measured before the completion adapts the sequence: what it keeps is what it skips.
  const cachedTokens = reusableTokens(sequence, sequenceInput(sequence.model, input.tokens));
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const started = performance.now();
  let completionTokens = 0;
  try {
    const result = await completion.generateCompletionWithMeta(input.tokens, {
      onToken: (tokens) => {
        completionTokens += tokens.length;
        input.onTokens?.(tokens.length);
      },
      onTextChunk: (chunk) => {
        emit(matcher.push(chunk));
        if (matcher.stopped) halt.abort();
      },
      signal: halt.signal,
      stopOnAbortSignal: true,
      maxTokens: sampling.maxTokens ?? undefined,
      temperature: sampling.temperature ?? DEFAULT_TEMPERATURE,
      topP: sampling.topP ?? undefined,
      seed: sampling.seed ?? undefined,
      repeatPenalty: repeatPenaltyFor(sampling),
      customStopTriggers: tokenStops.length > 0 ? tokenStops : undefined,
      // Never drop the start of the prompt to make room: callers check the prompt fits, and
      // the reply ends ('length') when the context is full.
      disableContextShift: true,
      contextShiftSize: 1,
    });
    input.signal.throwIfAborted();
    emit(matcher.flush());
    const hitLength = result.metadata.stopReason === 'maxTokens' && !matcher.stopped;
    return {
      text,
      completionTokens,
      finishReason: hitLength ? 'length' : 'stop',
      seconds: (performance.now() - started) / 1000,
      cachedTokens,
    };
  } finally {
    input.signal.removeEventListener('abort', onClientAbort);
    completion.dispose({ disposeSequence: false });
  }
}
