/**
 * Relays an upstream SSE body to the client as OpenAI SSE, event by event (never buffered to
 * the end), with backpressure. How it ends:
 * - normally: optional usage chunk (`stream_options.include_usage`), then `data: [DONE]`;
 * - upstream failure mid-stream (in-band error event, cut connection, idle timeout): one
 *   `data: {"error":…}` event, which the OpenAI SDKs raise as an error, then `data: [DONE]`;
 * - client gone: the caller's abort signal has already stopped the upstream; nothing is written.
 */
import type { ReplyChannel } from '../transport/channel.js';
import { ClientGoneError } from '../transport/client.js';
import { SSE_DONE, SseParser, sseErrorTail, sseFrame } from '../transport/sse.js';
import { chatChunkToTextCompletion } from './completions.js';
import { CloudError } from './errors.js';
import type { ChatChunk, Usage } from './openai-shapes.js';
import type { StreamTranslator } from './provider.js';

export interface StreamRelayOptions {
  source: AsyncIterable<Uint8Array>;
  translator: StreamTranslator;
  channel: ReplyChannel;
  kind: 'chat' | 'completions';
  /** Emit the usage chunk ourselves (translated providers); passthrough upstreams send their own. */
  appendUsage: boolean;
  publicModel: string;
  created: number;
  onFirstToken: () => void;
  /** Turns a thrown non-`CloudError` (network, timeout) into the error to report. */
  classify: (error: unknown) => CloudError;
}

export type StreamOutcome =
  | { ok: true; usage: Usage | undefined }
  | { ok: false; error: CloudError; usage: Usage | undefined };

const write = (channel: ReplyChannel, text: string) => channel.write(text);

export async function relayStream(options: StreamRelayOptions): Promise<StreamOutcome | 'client_gone'> {
  const { channel, translator } = options;
  const parser = new SseParser();
  let lastId = `chatcmpl-${options.created}`;
  let firstTokenSeen = false;

  const writeFrames = async (frames: Array<ChatChunk | string>) => {
    for (const frame of frames) {
      if (typeof frame === 'string') {
        await write(channel, sseFrame(frame));
        continue;
      }
      lastId = frame.id;
      const payload = options.kind === 'completions' ? chatChunkToTextCompletion(frame) : frame;
      if (payload) await write(channel, sseFrame(payload));
    }
    if (!firstTokenSeen && translator.sawFirstToken) {
      firstTokenSeen = true;
      options.onFirstToken();
    }
  };

  try {
    for await (const bytes of options.source) {
      for (const event of parser.push(bytes)) await writeFrames(translator.push(event));
    }
    for (const event of parser.end()) await writeFrames(translator.push(event));
    await writeFrames(translator.end());
    const usage = translator.usage();
    if (options.appendUsage && usage) {
      const object = options.kind === 'completions' ? 'text_completion' : 'chat.completion.chunk';
      await write(
        channel,
        sseFrame({
          id: lastId,
          object,
          created: options.created,
          model: options.publicModel,
          choices: [],
          usage,
        }),
      );
    }
    await write(channel, SSE_DONE);
    channel.end();
    return { ok: true, usage };
  } catch (caught) {
    if (caught instanceof ClientGoneError || channel.gone) return 'client_gone';
    const error = caught instanceof CloudError ? caught : options.classify(caught);
    try {
      if (channel.gone) return 'client_gone';
      channel.end(sseErrorTail(error.toBody()));
    } catch {
      return 'client_gone';
    }
    return { ok: false, error, usage: translator.usage() };
  }
}
