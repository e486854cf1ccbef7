/**
 * `POST /v1/responses` (+ GET, DELETE) against a real node (stories260K through llama.cpp), with
 * the official openai SDK: `responses.create`, `responses.stream`, stored responses scoped to the
 * key that made them, `previous_response_id`, history, and errors in OpenAI's shape.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FormatsRig, historyRows, startFormatsRig } from './rig.js';

describe('OpenAI Responses on a local model', () => {
  let rig: FormatsRig;
  let client: OpenAI;
  let other: OpenAI;

  beforeAll(async () => {
    rig = await startFormatsRig();
    client = new OpenAI({ apiKey: rig.key, baseURL: `${rig.router.url}/v1`, maxRetries: 0 });
    other = new OpenAI({ apiKey: rig.otherKey, baseURL: `${rig.router.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => rig.close());

  it('creates, retrieves, continues and deletes a stored response', async () => {
    const first = await client.responses.create({
      model: 'stories260K',
      input: 'Once upon a time',
      instructions: 'Tell a story.',
      max_output_tokens: 8,
      temperature: 0,
    });
    expect(first.id).toMatch(/^resp_/);
    expect(first.object).toBe('response');
    expect(first.status).toBe('incomplete');
    expect(first.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(first.output_text.length).toBeGreaterThan(0);
    expect(first.usage).toMatchObject({ output_tokens: 8 });
    expect(first.usage!.input_tokens).toBeGreaterThan(0);
    expect(first.usage!.total_tokens).toBe(first.usage!.input_tokens + 8);

    const again = await client.responses.retrieve(first.id);
    expect(again.output_text).toBe(first.output_text);

    // The continuation's prompt holds the first exchange: more input tokens than the new input alone.
    const next = await client.responses.create({
      model: 'stories260K',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'And then' }] }],
      previous_response_id: first.id,
      max_output_tokens: 4,
    });
    const alone = await client.responses.create({
      model: 'stories260K',
      input: 'And then',
      max_output_tokens: 4,
      store: false,
    });
    expect(next.previous_response_id).toBe(first.id);
    expect(next.usage!.input_tokens).toBeGreaterThan(alone.usage!.input_tokens);
    await expect(client.responses.retrieve(alone.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    // Another key cannot see, continue or delete it.
    await expect(other.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      other.responses.create({ model: 'stories260K', input: 'x', previous_response_id: first.id }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.delete(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    await client.responses.delete(first.id);
    const gone = await client.responses.retrieve(first.id).catch((e) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone.error).toMatchObject({ type: 'invalid_request_error', code: 'response_not_found' });
  });

  it('streams the Responses event sequence, and the final response is stored', async () => {
    const stream = client.responses.stream({
      model: 'stories260K',
      input: 'Once upon a time',
      max_output_tokens: 8,
      temperature: 0,
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types).toContain('response.output_text.delta');
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(final.output_text).toBe(text);
    expect(final.usage?.output_tokens).toBe(8);
    expect((await client.responses.retrieve(final.id)).output_text).toBe(text);

    const rows = await historyRows(rig, 'stories260K');
    const streamed = rows.find((row) => row.request_type === 'responses' && row.stream === true);
    expect(streamed).toMatchObject({ status: 'success', completion_tokens: 8 });
    expect(streamed.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
  });

  it('refuses bad input and function tools on this model with OpenAI-shaped 4xx', async () => {
    const tools = await client.responses
      .create({
        model: 'stories260K',
        input: 'weather?',
        tools: [
          {
            type: 'function',
            name: 'weather',
            parameters: { type: 'object', properties: {} },
            strict: false,
          },
        ],
      })
      .catch((e) => e);
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tools.message).toMatch(/tools/);

    const hosted = await client.responses
      .create({ model: 'stories260K', input: 'x', tools: [{ type: 'web_search_preview' }] })
      .catch((e) => e);
    expect(hosted).toBeInstanceOf(OpenAI.BadRequestError);
    expect(hosted.message).toMatch(/only function tools/);

    const noInput = await rig.router.call('POST', '/v1/responses', {
      body: { model: 'stories260K' },
      headers: { authorization: `Bearer ${rig.key}` },
    });
    expect(noInput.status).toBe(400);
    expect(noInput.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });

    const badItem = await rig.router.call('POST', '/v1/responses', {
      body: { model: 'stories260K', input: [{ type: 'computer_call' }] },
      headers: { authorization: `Bearer ${rig.key}` },
    });
    expect(badItem.status).toBe(400);
    expect(badItem.body.error.message).toMatch(/computer_call/);

    const unauthenticated = await rig.router.call('GET', '/v1/responses/resp_x');
    expect(unauthenticated.status).toBe(401);
  });
});
