/**
 * Cloud models through the whole router (auth, history, stats, metrics), not just the gateway:
 * an Anthropic reply translated for the openai SDK, recorded with the provider as the node.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRouter, type TestRouter } from '../support/router-harness.js';
import { FakeUpstream } from './support/fake-upstream.js';

describe('cloud models through the full router', () => {
  let upstream: FakeUpstream;
  let router: TestRouter;
  let client: OpenAI;
  let admin: Record<string, string>;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    router = await startTestRouter({
      ANTHROPIC_API_KEY: 'test-anthropic-key',
      ANTHROPIC_API_BASE_URL: upstream.url,
    });
    client = new OpenAI({
      apiKey: await router.createKey(['api:inference']),
      baseURL: `${router.url}/v1`,
      maxRetries: 0,
    });
    admin = { authorization: `Bearer ${await router.adminToken()}` };
  });
  afterAll(async () => {
    await router.stop();
    await upstream.close();
  });

  it('answers an anthropic: model in OpenAI format and records it with the provider as node', async () => {
    upstream.on('/v1/messages', {
      kind: 'json',
      body: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [{ type: 'text', text: 'Hello from Claude' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 4 },
      },
    });
    const res = await client.chat.completions.create({
      model: 'anthropic:claude-test',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('Hello from Claude');
    expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4 });
    expect(upstream.requests[0].headers['x-api-key']).toBe('test-anthropic-key');

    await router.recorder.flush();
    const history = await router.call(
      'GET',
      '/v0/dashboard/request-responses?model=anthropic%3Aclaude-test',
      {
        headers: admin,
      },
    );
    expect(history.body.records[0]).toMatchObject({
      node_id: 'cloud:anthropic',
      node_machine_name: 'cloud:anthropic',
      status: 'success',
      prompt_tokens: 11,
      completion_tokens: 4,
    });
  });

  it('answers a provider without a key with 401 naming the variable, sending nothing', async () => {
    const before = upstream.requests.length;
    const error = await client.chat.completions
      .create({ model: 'google:gemini-test', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toContain('GOOGLE_API_KEY');
    expect(upstream.requests.length).toBe(before);
  });

  it('shows which provider keys are present in the dashboard stats, and counts in the metrics', async () => {
    const stats = await router.call('GET', '/v0/dashboard/stats', { headers: admin });
    expect(stats.body).toMatchObject({
      anthropic_key_present: true,
      openai_key_present: false,
      google_key_present: false,
    });
    const metrics = await fetch(`${router.url}/v0/metrics/cloud`, { headers: admin });
    expect(await metrics.text()).toMatch(/cloud_requests_total\{provider="anthropic",status="200"\} 1/);
  });
});
