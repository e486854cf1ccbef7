/**
 * `POST /v1/messages` against a real node (stories260K through llama.cpp), with the official
 * Anthropic SDK: plain and streamed replies, count_tokens, models in Anthropic's shape, history,
 * and errors in Anthropic's shape (bad input, tools on a model that cannot call them, auth).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FormatsRig, historyRows, startFormatsRig } from './rig.js';

describe('Anthropic Messages on a local model', () => {
  let rig: FormatsRig;
  let client: Anthropic;

  beforeAll(async () => {
    rig = await startFormatsRig();
    client = new Anthropic({ apiKey: rig.key, baseURL: rig.router.url, maxRetries: 0 });
  });
  afterAll(() => rig.close());

  it('answers a message with text, a stop reason and usage (x-api-key auth)', async () => {
    // `temperature` is in the Messages wire format, though this SDK's types no longer list it.
    const params = {
      model: 'stories260K',
      max_tokens: 8,
      temperature: 0,
      system: 'You tell stories.',
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
    };
    const message = await client.messages.create(params);
    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe('stories260K');
    expect(message.content[0].type).toBe('text');
    expect((message.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(0);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBe(8);
  });

  it('streams the documented event sequence and the same text (Bearer auth)', async () => {
    const bearer = new Anthropic({
      authToken: rig.key,
      apiKey: null,
      baseURL: rig.router.url,
      maxRetries: 0,
    });
    const stream = bearer.messages.stream({
      model: 'stories260K',
      max_tokens: 8,
      temperature: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Once upon a time' }] }],
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types).toContain('content_block_start');
    expect(types).toContain('content_block_delta');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(text.length).toBeGreaterThan(0);
    expect((final.content[0] as Anthropic.TextBlock).text).toBe(text);
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(8);
    expect(final.usage.input_tokens).toBeGreaterThan(0);

    const rows = await historyRows(rig, 'stories260K');
    const streamed = rows.find((row) => row.request_type === 'messages' && row.stream === true);
    expect(streamed).toMatchObject({ status: 'success', completion_tokens: 8 });
    expect(streamed.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
    expect(streamed.prompt_tokens).toBeGreaterThan(0);
    const detail = await rig.router.call('GET', `/v0/dashboard/request-responses/${streamed.id}`, {
      headers: rig.admin,
    });
    expect(JSON.stringify(detail.body)).toContain(JSON.stringify(text).slice(1, -1));
  });

  it('counts tokens with the node tokenizer, growing with the prompt', async () => {
    const short = await client.messages.countTokens({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once' }],
    });
    const long = await client.messages.countTokens({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Once upon a time there was a little girl called Lily' }],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
  });

  it('lists models in Anthropic shape when anthropic-version is sent', async () => {
    const page = await client.models.list();
    const model = page.data.find((entry) => entry.id === 'stories260K');
    expect(model).toMatchObject({ type: 'model', display_name: 'stories260K' });
    expect(typeof model?.created_at).toBe('string');
    const plain = await rig.router.call('GET', '/v1/models', {
      headers: { authorization: `Bearer ${rig.key}` },
    });
    expect(plain.body.object).toBe('list');
  });

  it('refuses tools on a model that cannot call them with a clear Anthropic-shaped 400', async () => {
    const error = await client.messages
      .create({
        model: 'stories260K',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'What is the weather?' }],
        tools: [{ name: 'weather', input_schema: { type: 'object', properties: {} } }],
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(error.error.error.message).toMatch(/tools/);
  });

  it('answers bad input, unknown models and bad keys in Anthropic error shape', async () => {
    const missing = await rig.router.call('POST', '/v1/messages', {
      body: { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }] },
      headers: { 'x-api-key': rig.key },
    });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(missing.body.error.message).toMatch(/max_tokens/);

    const badBlock = await rig.router.call('POST', '/v1/messages', {
      body: {
        model: 'stories260K',
        max_tokens: 4,
        messages: [{ role: 'user', content: [{ type: 'video' }] }],
      },
      headers: { 'x-api-key': rig.key },
    });
    expect(badBlock.status).toBe(400);
    expect(badBlock.body.error.message).toMatch(/video/);

    const notJson = await rig.router.call('POST', '/v1/messages', {
      raw: '{',
      headers: { 'x-api-key': rig.key },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.type).toBe('error');

    const unknown = await client.messages
      .create({ model: 'no-such-model', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.error.error.type).toBe('not_found_error');

    const stranger = new Anthropic({ apiKey: 'sk-wrong', baseURL: rig.router.url, maxRetries: 0 });
    const denied = await stranger.messages
      .create({ model: 'stories260K', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(denied.error.error.type).toBe('authentication_error');
  });
});
