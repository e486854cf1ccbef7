/**
 * How much of a prompt a context sequence already holds in its KV cache. node-llama-cpp keeps the
 * tokens each sequence has evaluated (`contextTokens`) and, when a completion starts, erases only
 * what differs and evaluates the rest (`adaptStateToTokens`), so the shared prefix is exactly the
 * prefill the node skips. The node uses it twice: to pick the free sequence that saves the most
 * (like llama.cpp server's slot similarity) and to report `cached_tokens`.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { beginningToken } from './prompt.js';

/** The tokens the sequence will hold for this prompt: the generator prepends the beginning token. */
export function sequenceInput(model: LlamaModel, tokens: readonly Token[]): Token[] {
  const bos = beginningToken(model);
  return bos === null ? [...tokens] : [bos, ...tokens];
}

/** Length of the common prefix of two token lists. */
export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Prompt tokens the sequence will not evaluate again. The last prompt token is always decoded
 * (its logits pick the first reply token), so at most `input.length - 1` are reused.
 */
export function reusableTokens(sequence: LlamaContextSequence, input: readonly Token[]): number {
  if (input.length === 0) return 0;
  return Math.min(commonPrefixLength(sequence.contextTokens, input), input.length - 1);
}

/**
 * How well a free sequence suits a prompt, higher is better. A sequence that shares more than the
 * beginning token wins by the tokens it saves; otherwise the one holding the fewest tokens is
 * overwritten, so an unrelated prompt does not evict a conversation another sequence could resume.
 */
export function sequenceRank(sequence: LlamaContextSequence, input: readonly Token[]): number {
  const reused = reusableTokens(sequence, input);
  return reused > 1 ? reused : -1 - sequence.nextTokenIndex;
}
