/**
 * The two new formats on cloud models, against the local fake upstream, with the official SDKs:
 * Messages → `anthropic:` and Responses → `openai:` pass through natively (request bytes and
 * reply as sent, provider key swapped in); Messages → `openai:`/`google:` and Responses →
 * `anthropic:` go through the cloud translation, tool calls and streams included.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FormatsRig, historyRows, startFormatsRig } from './rig.js';

const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: {
    type: 'object' as const,
    properties: { location: { type: 'string' } },
    required: ['location'],
  },
};

const anthropicMessage = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-test',
  content: [{ type: 'text', text: 'Hello from Claude' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 11, output_tokens: 4 },
};

/** Anthropic's documented stream for a tool call (Streaming messages guide). */
const anthropicToolStream = [
  {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        ...anthropicMessage,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 20, output_tokens: 1 },
      },
    },
  },
  { event: 'ping', data: { type: 'ping' } },
  {
    event: 'content_block_start',
    data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  },
  {
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } },
  },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  {
    event: 'content_block_start',
    data: {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: {} },
    },
  },
  {
    event: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{"location": "San' },
    },
  },
  {
    event: 'content_block_delta',
    data: {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: ' Francisco"}' },
    },
  },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
  {
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 30 },
    },
  },
  { event: 'message_stop', data: { type: 'message_stop' } },
];

const chatToolCompletion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 },
};

const chunk = (delta: unknown, finish: string | null = null) => ({
  data: {
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-test',
    choices: [{ index: 0, delta, finish_reason: finish }],
  },
});
const chatToolStream = [
  chunk({ role: 'assistant', content: '' }),
  chunk({
    tool_calls: [
      { index: 0, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
  chunk({}, 'tool_calls'),
  {
    data: {
      id: 'chatcmpl-2',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-test',
      choices: [],
      usage: { prompt_tokens: 25, completion_tokens: 7, total_tokens: 32 },
    },
  },
  { data: '[DONE]' },
];

const openAIResponse = {
  id: 'resp_upstream_1',
  object: 'response',
  created_at: 1,
  status: 'completed',
  error: null,
  incomplete_details: null,
  model: 'gpt-test',
  output: [
    {
      type: 'message',
      id: 'msg_u1',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Hi from OpenAI', annotations: [] }],
    },
  ],
  parallel_tool_calls: true,
  tool_choice: 'auto',
  tools: [],
  usage: { input_tokens: 5, output_tokens: 4, total_tokens: 9 },
};

describe('new formats on cloud models', () => {
  let rig: FormatsRig;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    rig = await startFormatsRig({ node: false });
    anthropic = new Anthropic({ apiKey: rig.key, baseURL: rig.router.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: rig.key, baseURL: `${rig.router.url}/v1`, maxRetries: 0 });
  });
  beforeEach(() => rig.upstream.reset());
  afterAll(() => rig.close());

  it('passes Messages to anthropic: as sent and the reply back untouched', async () => {
    rig.upstream.on('/v1/messages', { kind: 'json', body: anthropicMessage });
    // `top_k` is in the Messages wire format, though this SDK's types no longer list it.
    const params = {
      model: 'anthropic:claude-test',
      max_tokens: 64,
      top_k: 5,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const message = await anthropic.messages.create(params);
    expect(message).toMatchObject(anthropicMessage);
    const sent = rig.upstream.requests[0];
    expect(sent.json).toEqual({
      model: 'claude-test',
      max_tokens: 64,
      top_k: 5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(sent.headers['x-api-key']).toBe('provider-anthropic-key');
    const [row] = await historyRows(rig, 'anthropic:claude-test');
    expect(row).toMatchObject({
      request_type: 'messages',
      node_id: 'cloud:anthropic',
      prompt_tokens: 11,
      completion_tokens: 4,
    });
  });

  it('streams Messages from anthropic: byte for byte, tool calls included', async () => {
    rig.upstream.on('/v1/messages', { kind: 'sse', events: anthropicToolStream });
    const stream = anthropic.messages.stream({
      model: 'anthropic:claude-test',
      max_tokens: 64,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in SF?' }],
    });
    const final = await stream.finalMessage();
    expect(final.content[1]).toEqual({
      type: 'tool_use',
      id: 'toolu_01',
      name: 'get_weather',
      input: { location: 'San Francisco' },
    });
    expect(final.stop_reason).toBe('tool_use');
    const [row] = await historyRows(rig, 'anthropic:claude-test');
    expect(row).toMatchObject({
      request_type: 'messages',
      stream: true,
      prompt_tokens: 20,
      completion_tokens: 30,
    });
  });

  it('translates Messages with tools to openai: and the tool call back', async () => {
    rig.upstream.on('/v1/chat/completions', { kind: 'json', body: chatToolCompletion });
    const message = await anthropic.messages.create({
      model: 'openai:gpt-test',
      max_tokens: 64,
      system: [{ type: 'text', text: 'Be brief.' }],
      tools: [weatherTool],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_0', name: 'get_weather', input: { location: 'Rome' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_0', content: 'Sunny' },
            { type: 'text', text: 'And Paris?' },
          ],
        },
      ],
    });
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toEqual({ input_tokens: 30, output_tokens: 9 });
    expect(rig.upstream.requests[0].json).toEqual({
      model: 'gpt-test',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_0',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_0', content: 'Sunny' },
        { role: 'user', content: 'And Paris?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: weatherTool.description,
            parameters: weatherTool.input_schema,
          },
        },
      ],
      tool_choice: 'required',
    });
    expect(rig.upstream.requests[0].headers.authorization).toBe('Bearer provider-openai-key');
  });

  it('streams a translated tool call from openai: as input_json_delta events', async () => {
    rig.upstream.on('/v1/chat/completions', { kind: 'sse', events: chatToolStream });
    const stream = anthropic.messages.stream({
      model: 'openai:gpt-test',
      max_tokens: 64,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    const deltas: string[] = [];
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta')
        deltas.push(event.delta.partial_json);
    }
    const final = await stream.finalMessage();
    expect(deltas).toEqual(['{"location":', '"Oslo"}']);
    expect(final.content).toEqual([
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Oslo' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({ input_tokens: 25, output_tokens: 7 });
    expect(rig.upstream.requests[0].json).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('translates Messages to google: through the Gemini translation', async () => {
    rig.upstream.on(':generateContent', {
      kind: 'json',
      body: {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Hello from Gemini' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
      },
    });
    const message = await anthropic.messages.create({
      model: 'google:gemini-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Gemini' }]);
    expect(message.usage).toEqual({ input_tokens: 3, output_tokens: 4 });
    expect(rig.upstream.requests[0].url).toContain('gemini-test:generateContent');
  });

  it('maps a provider error to Anthropic error shape, and a missing count_tokens tokenizer to a 400', async () => {
    rig.upstream.on('/v1/chat/completions', {
      kind: 'json',
      status: 429,
      body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
    });
    const limited = await anthropic.messages
      .create({ model: 'openai:gpt-test', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited.error.error).toMatchObject({ type: 'rate_limit_error' });
    expect(limited.error.error.message).toMatch(/Rate limit reached/);

    const count = await anthropic.messages
      .countTokens({ model: 'openai:gpt-test', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(count).toBeInstanceOf(Anthropic.BadRequestError);

    rig.upstream.on('/v1/messages/count_tokens', { kind: 'json', body: { input_tokens: 42 } });
    const native = await anthropic.messages.countTokens({
      model: 'anthropic:claude-test',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(native.input_tokens).toBe(42);
  });

  it('passes Responses to openai: natively and stores the reply for retrieval', async () => {
    rig.upstream.on('/v1/responses', { kind: 'json', body: openAIResponse });
    const response = await openai.responses.create({ model: 'openai:gpt-test', input: 'hi' });
    expect(response.output_text).toBe('Hi from OpenAI');
    expect(rig.upstream.requests[0].json).toEqual({ model: 'gpt-test', input: 'hi' });
    expect(rig.upstream.requests[0].url).toBe('/v1/responses');
    expect((await openai.responses.retrieve('resp_upstream_1')).output_text).toBe('Hi from OpenAI');
    const [row] = await historyRows(rig, 'openai:gpt-test');
    expect(row).toMatchObject({
      request_type: 'responses',
      node_id: 'cloud:openai',
      prompt_tokens: 5,
      completion_tokens: 4,
    });
  });

  it('streams Responses from openai: as the provider sent them', async () => {
    const completed = { ...openAIResponse, id: 'resp_upstream_2' };
    const inProgress = { ...completed, status: 'in_progress', output: [], usage: null };
    const item = openAIResponse.output[0];
    const events = [
      { type: 'response.created', response: inProgress },
      { type: 'response.in_progress', response: inProgress },
      {
        type: 'response.output_item.added',
        output_index: 0,
        item: { ...item, status: 'in_progress', content: [] },
      },
      {
        type: 'response.content_part.added',
        item_id: 'msg_u1',
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      },
      {
        type: 'response.output_text.delta',
        item_id: 'msg_u1',
        output_index: 0,
        content_index: 0,
        delta: 'Hi from OpenAI',
      },
      {
        type: 'response.output_text.done',
        item_id: 'msg_u1',
        output_index: 0,
        content_index: 0,
        text: 'Hi from OpenAI',
      },
      { type: 'response.output_item.done', output_index: 0, item },
      { type: 'response.completed', response: completed },
    ].map((data, index) => ({ event: data.type, data: { ...data, sequence_number: index } }));
    rig.upstream.on('/v1/responses', { kind: 'sse', events });
    const stream = openai.responses.stream({ model: 'openai:gpt-test', input: 'hi' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Hi from OpenAI');
    expect((await openai.responses.retrieve('resp_upstream_2')).id).toBe('resp_upstream_2');
  });

  it('translates Responses with function tools to anthropic: and streams the call back', async () => {
    rig.upstream.on('/v1/messages', { kind: 'sse', events: anthropicToolStream });
    const stream = openai.responses.stream({
      model: 'anthropic:claude-test',
      input: [{ role: 'user', content: 'Weather in SF?' }],
      instructions: 'Use tools.',
      tools: [{ type: 'function', name: 'get_weather', parameters: weatherTool.input_schema, strict: false }],
    });
    const argumentDeltas: string[] = [];
    for await (const event of stream) {
      if (event.type === 'response.function_call_arguments.delta') argumentDeltas.push(event.delta);
    }
    const final = await stream.finalResponse();
    expect(argumentDeltas.join('')).toBe('{"location": "San Francisco"}');
    expect(final.output_text).toBe('Let me check.');
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({
      call_id: 'toolu_01',
      name: 'get_weather',
      arguments: '{"location": "San Francisco"}',
    });
    expect(final.usage).toMatchObject({ input_tokens: 20, output_tokens: 30 });
    expect(rig.upstream.requests[0].json).toMatchObject({
      model: 'claude-test',
      system: 'Use tools.',
      tools: [{ name: 'get_weather', input_schema: weatherTool.input_schema }],
      stream: true,
    });

    // The function output continues the stored conversation: the call and its result reach Anthropic.
    rig.upstream.reset();
    rig.upstream.on('/v1/messages', { kind: 'json', body: anthropicMessage });
    const next = await openai.responses.create({
      model: 'anthropic:claude-test',
      previous_response_id: final.id,
      input: [{ type: 'function_call_output', call_id: 'toolu_01', output: '18°C and foggy' }],
    });
    expect(next.output_text).toBe('Hello from Claude');
    const sent = rig.upstream.requests[0].json as { messages: Array<{ role: string; content: unknown[] }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.messages[1].content).toContainEqual({
      type: 'tool_use',
      id: 'toolu_01',
      name: 'get_weather',
      input: { location: 'San Francisco' },
    });
    expect(sent.messages[2].content).toContainEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_01',
      content: '18°C and foggy',
    });
  });

  it('answers an upstream failure mid-stream with an error the SDKs raise', async () => {
    rig.upstream.on('/v1/messages', { kind: 'sse', events: anthropicToolStream, cutAfter: 4 });
    const stream = openai.responses.stream({ model: 'anthropic:claude-test', input: 'hi' });
    await expect(stream.finalResponse()).rejects.toThrow();
    rig.upstream.reset();
    rig.upstream.on('/v1/chat/completions', { kind: 'sse', events: chatToolStream, cutAfter: 3 });
    const messages = anthropic.messages.stream({
      model: 'openai:gpt-test',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expect(messages.finalMessage()).rejects.toThrow();
  });
});
