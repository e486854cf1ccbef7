/**
 * The shared conformance checks for one provider's golden transcripts: for each transcript the
 * router must send exactly the golden upstream request, and the `openai` SDK must read back
 * exactly the expected answer (content, tool calls with parsed arguments, finish reason,
 * usage), or the expected error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../../src/config/env.js';
import { FakeUpstream } from './fake-upstream.js';
import { type GoldenTranscript, loadTranscripts, type ParsedReply, replayThroughRouter } from './golden.js';
import { startRouter, type TestRouter } from './router-app.js';

export function expectReplyMatches(reply: ParsedReply, golden: GoldenTranscript): void {
  const expected = golden.expect;
  if (expected.error) {
    expect(reply.error, 'the SDK should have raised an error').toBeDefined();
    expect(reply.error?.status).toBe(expected.error.status);
    if (expected.error.code) expect(reply.error?.code).toBe(expected.error.code);
    expect(reply.error?.message).toContain(expected.error.message_contains);
    if (expected.error.retry_after) expect(reply.error?.retry_after).toBe(expected.error.retry_after);
    return;
  }
  if (expected.stream_error) {
    expect(reply.error, 'the stream should have ended with an error event').toBeDefined();
    expect(reply.error?.message).toContain(expected.stream_error.message_contains);
    expect(reply.content).toBe(expected.stream_error.content_before);
    return;
  }
  expect(reply.error).toBeUndefined();
  if (expected.embeddings) {
    expect(reply.embeddings).toEqual(expected.embeddings);
    return;
  }
  if ('content' in expected) expect(reply.content).toBe(expected.content);
  expect(reply.finish_reason).toBe(expected.finish_reason);
  const calls = reply.tool_calls.map((call, i) => {
    const wanted = expected.tool_calls?.[i];
    // Ids the provider did not give are made up by the router: check their form only.
    if (wanted && wanted.id === undefined) {
      expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
      const { id: _id, ...rest } = call;
      return rest;
    }
    return call;
  });
  expect(calls).toEqual(expected.tool_calls ?? []);
  if (expected.usage === null) expect(reply.usage).toBeUndefined();
  else if (expected.usage) expect(reply.usage).toMatchObject(expected.usage);
  if (expected.more_choices) expect(reply.more_choices).toEqual(expected.more_choices);
}

/** Registers one test per transcript of `provider`, against a fresh router and fake upstream. */
export function describeGoldenTranscripts(provider: string, envFor: (fakeUrl: string) => Env): void {
  describe(`${provider} golden transcripts through the router, read by the openai SDK`, () => {
    let fake: FakeUpstream;
    let router: TestRouter;
    beforeAll(async () => {
      fake = await FakeUpstream.start();
      router = await startRouter(envFor(fake.url));
    });
    afterAll(async () => {
      await router?.close();
      await fake?.close();
    });

    for (const golden of loadTranscripts(provider)) {
      it(golden.name, async () => {
        const reply = await replayThroughRouter(router, fake, golden);
        expect(fake.requests).toHaveLength(1);
        expect(fake.requests[0].url).toBe(golden.upstream.request.path);
        expect(fake.requests[0].json).toEqual(golden.upstream.request.body);
        expectReplyMatches(reply, golden);
        if (golden.client.body.stream === true && !golden.expect.error) {
          expect(reply.chunks.length).toBeGreaterThan(0);
        }
      });
    }
  });
}
