/**
 * Golden transcripts: one JSON file per case under `fixtures/<provider>/`, holding
 * - `client`: the OpenAI request the client sends to the router;
 * - `upstream.request`: the exact request the provider must receive (path and JSON body);
 * - `upstream.response`: the provider's reply, built from its public API documentation
 *   (status, headers, JSON body or SSE events);
 * - `expect`: what the `openai` SDK must read back from the router.
 * `replayThroughRouter` plays one through a router and returns what the SDK parsed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIError } from 'openai';
import type { FakeUpstream, Script } from './fake-upstream.js';
import type { TestRouter } from './router-app.js';

export interface ExpectedToolCall {
  id?: string;
  name: string;
  arguments: unknown;
  thought_signature?: string;
}

export interface Expectation {
  content?: string | null;
  tool_calls?: ExpectedToolCall[];
  finish_reason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Choices beyond the first (n > 1). */
  more_choices?: Array<{ content: string; finish_reason: string }>;
  embeddings?: number[][];
  error?: { status: number; code?: string; message_contains: string; retry_after?: string };
  /** The stream starts, then fails with an error event. */
  stream_error?: { message_contains: string; content_before: string };
}

export interface GoldenTranscript {
  name: string;
  /** Which public documentation the upstream side follows. */
  source: string;
  client: { endpoint: 'chat' | 'completions' | 'embeddings'; body: Record<string, unknown> };
  upstream: { request: { path: string; body: unknown }; response: Script };
  expect: Expectation;
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export function loadTranscripts(provider: string): GoldenTranscript[] {
  const dir = join(FIXTURES, provider);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as GoldenTranscript);
}

export interface ParsedReply {
  content: string | null;
  tool_calls: ExpectedToolCall[];
  finish_reason: string | null;
  usage: Expectation['usage'] | undefined;
  more_choices: Array<{ content: string; finish_reason: string }>;
  embeddings: number[][];
  /** Streams: every chunk the SDK yielded. */
  chunks: unknown[];
  error?: {
    status: number | undefined;
    code: string | null | undefined;
    message: string;
    retry_after: string | null;
  };
}

function emptyReply(): ParsedReply {
  return {
    content: null,
    tool_calls: [],
    finish_reason: null,
    usage: undefined,
    more_choices: [],
    embeddings: [],
    chunks: [],
  };
}

type SdkToolCall = {
  id: string;
  function: { name: string; arguments: string };
  extra_content?: { google?: { thought_signature?: string } };
};

function readToolCalls(calls: SdkToolCall[] | undefined): ExpectedToolCall[] {
  return (calls ?? []).map((call) => ({
    id: call.id,
    name: call.function.name,
    arguments: JSON.parse(call.function.arguments),
    ...(call.extra_content?.google?.thought_signature
      ? { thought_signature: call.extra_content.google.thought_signature }
      : {}),
  }));
}

async function replayChat(
  router: TestRouter,
  body: Record<string, unknown>,
  reply: ParsedReply,
): Promise<void> {
  if (body.stream === true) {
    const stream = router.client.chat.completions.stream(body as never);
    for await (const chunk of stream) {
      reply.chunks.push(chunk);
      reply.content = (reply.content ?? '') + (chunk.choices[0]?.delta?.content ?? '');
    }
    const final = await stream.finalChatCompletion();
    const [first, ...rest] = final.choices;
    reply.content = first.message.content;
    reply.tool_calls = readToolCalls(first.message.tool_calls as SdkToolCall[] | undefined);
    reply.finish_reason = first.finish_reason;
    reply.usage = final.usage ?? undefined;
    reply.more_choices = rest.map((c) => ({
      content: c.message.content ?? '',
      finish_reason: c.finish_reason,
    }));
    return;
  }
  const completion = await router.client.chat.completions.create(body as never);
  const [first, ...rest] = completion.choices;
  reply.content = first.message.content;
  reply.tool_calls = readToolCalls(first.message.tool_calls as SdkToolCall[] | undefined);
  reply.finish_reason = first.finish_reason;
  reply.usage = completion.usage;
  reply.more_choices = rest.map((c) => ({
    content: c.message.content ?? '',
    finish_reason: c.finish_reason,
  }));
}

async function replayCompletion(
  router: TestRouter,
  body: Record<string, unknown>,
  reply: ParsedReply,
): Promise<void> {
  if (body.stream === true) {
    const stream = await router.client.completions.create(body as never);
    reply.content = '';
    for await (const chunk of stream as unknown as AsyncIterable<{
      object: string;
      choices: Array<{ text: string; finish_reason: string | null }>;
      usage?: ParsedReply['usage'];
    }>) {
      reply.chunks.push(chunk);
      if (chunk.object !== 'text_completion') throw new Error(`unexpected chunk object ${chunk.object}`);
      for (const choice of chunk.choices) {
        reply.content += choice.text;
        if (choice.finish_reason) reply.finish_reason = choice.finish_reason;
      }
      if (chunk.usage) reply.usage = chunk.usage;
    }
    return;
  }
  const completion = await router.client.completions.create(body as never);
  if (completion.object !== 'text_completion') throw new Error(`unexpected object ${completion.object}`);
  reply.content = completion.choices[0].text;
  reply.finish_reason = completion.choices[0].finish_reason;
  reply.usage = completion.usage;
}

export async function replayThroughRouter(
  router: TestRouter,
  fake: FakeUpstream,
  golden: GoldenTranscript,
): Promise<ParsedReply> {
  fake.reset();
  fake.on(golden.upstream.request.path.split('?')[0], golden.upstream.response);
  const reply = emptyReply();
  const body = golden.client.body;
  try {
    if (golden.client.endpoint === 'chat') await replayChat(router, body, reply);
    else if (golden.client.endpoint === 'completions') await replayCompletion(router, body, reply);
    else {
      const result = await router.client.embeddings.create(body as never);
      reply.embeddings = result.data.map((entry) => entry.embedding);
    }
  } catch (error) {
    if (error instanceof APIError) {
      reply.error = {
        status: error.status,
        code: error.code,
        message: error.message,
        retry_after: error.headers?.get('retry-after') ?? null,
      };
    } else {
      throw error;
    }
  }
  return reply;
}
