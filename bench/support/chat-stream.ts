/**
 * One streamed chat completion, timed from the client's side: time to the first generated text
 * (TTFT), end-to-end time, the reply text and the final usage chunk (prompt and cached tokens).
 */
import { type Dispatcher, request } from 'undici';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TimedReply {
  status: number;
  ttftMs: number | null;
  e2eMs: number;
  text: string;
  promptTokens: number;
  cachedTokens: number;
  error: string | null;
}

export async function streamChat(
  url: string,
  key: string,
  body: { model: string; messages: ChatMessage[]; max_tokens: number },
  dispatcher: Dispatcher,
): Promise<TimedReply> {
  const started = performance.now();
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ ...body, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    dispatcher,
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
  if (res.statusCode !== 200) {
    const error = await res.body.text();
    return {
      status: res.statusCode,
      ttftMs: null,
      e2eMs: performance.now() - started,
      text: '',
      promptTokens: 0,
      cachedTokens: 0,
      error,
    };
  }
  let ttftMs: number | null = null;
  let text = '';
  let promptTokens = 0;
  let cachedTokens = 0;
  let pending = '';
  for await (const part of res.body) {
    pending += part.toString('utf8');
    let cut = pending.indexOf('\n\n');
    while (cut >= 0) {
      const event = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      cut = pending.indexOf('\n\n');
      const data = event.startsWith('data: ') ? event.slice(6) : null;
      if (!data || data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        choices?: Array<{ delta?: { content?: string } }>;
        usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
      };
      const content = chunk.choices?.[0]?.delta?.content;
      if (content) {
        ttftMs ??= performance.now() - started;
        text += content;
      }
      if (chunk.usage) {
        promptTokens = chunk.usage.prompt_tokens;
        cachedTokens = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
      }
    }
  }
  const e2eMs = performance.now() - started;
  return { status: 200, ttftMs: ttftMs ?? e2eMs, e2eMs, text, promptTokens, cachedTokens, error: null };
}

/** Deterministic pseudo-random words (mulberry32), so every policy sees the same prompts. */
export function randomWords(seed: number, count: number): string {
  const words =
    'the a and to was she he it in of is you that with for on they be at one have this from or had by not but what all were we when your can said there each which do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who its now find long down day did get come made may part'.split(
      ' ',
    );
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(words[Math.floor(next() * words.length)]!);
  return out.join(' ');
}
