/**
 * OpenAI chat output → OpenAI Responses output. A `chat.completion` becomes a `response` object;
 * a chunk stream becomes the Responses event sequence (`response.created`, `response.in_progress`,
 * `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`…
 * `response.output_text.done`, `response.content_part.done`, `response.output_item.done`, the
 * `response.function_call_arguments.*` events for tool calls, and `response.completed`), each with
 * its `sequence_number`. The finished response is kept for the store.
 */
import { randomBytes } from 'node:crypto';
import { openAIError } from '@llm-router/protocol';
import { namedSseFrame } from '../../transport/sse.js';
import type { BackendError, FormatTranslation } from '../channel.js';

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const tokens = (value: unknown) => (typeof value === 'number' ? value : 0);

export const responseId = () => `resp_${hex(24)}`;

export interface ResponseSettings {
  id: string;
  model: string;
  createdAt: number;
  /** Request fields echoed on the response object. */
  request: Json;
  previousResponseId: string | null;
  store: boolean;
}

function usageObject(prompt: number, completion: number): Json {
  return {
    input_tokens: prompt,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: completion,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: prompt + completion,
  };
}

function messageItem(id: string, text: string, status: string): Json {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content:
      text === '' && status === 'in_progress'
        ? []
        : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

function functionCallItem(id: string, callId: string, name: string, args: string, status: string): Json {
  return { type: 'function_call', id, call_id: callId, name, arguments: args, status };
}

/** One `/v1/responses` reply, JSON or stream. */
export class ResponsesTranslation implements FormatTranslation {
  /** The response as the client got it, once finished (for the store). */
  final: Json | null = null;
  private sequence = 0;
  private readonly output: Json[] = [];
  private open_:
    | { kind: 'message'; index: number; id: string; text: string }
    | {
        kind: 'call';
        index: number;
        id: string;
        callId: string;
        name: string;
        args: string;
        toolIndex: number;
      }
    | null = null;
  private finishReason: unknown = null;
  private promptTokens = 0;
  private completionTokens = 0;

  constructor(private readonly settings: ResponseSettings) {}

  /** The response object in a given state. */
  response(status: string, extra: Json = {}): Json {
    const req = this.settings.request;
    return {
      id: this.settings.id,
      object: 'response',
      created_at: this.settings.createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: req.instructions ?? null,
      max_output_tokens: req.max_output_tokens ?? null,
      model: this.settings.model,
      output: this.output,
      parallel_tool_calls: req.parallel_tool_calls ?? true,
      previous_response_id: this.settings.previousResponseId,
      reasoning: { effort: null, summary: null },
      store: this.settings.store,
      temperature: req.temperature ?? 1,
      text: req.text ?? { format: { type: 'text' } },
      tool_choice: req.tool_choice ?? 'auto',
      tools: req.tools ?? [],
      top_p: req.top_p ?? 1,
      truncation: 'disabled',
      usage: null,
      user: req.user ?? null,
      metadata: req.metadata ?? {},
      ...extra,
    };
  }

  reply(completion: unknown): object {
    const choice =
      isRecord(completion) && Array.isArray(completion.choices) ? completion.choices[0] : undefined;
    const message = isRecord(choice) && isRecord(choice.message) ? choice.message : {};
    if (typeof message.content === 'string' && message.content !== '') {
      this.output.push(messageItem(`msg_${hex(24)}`, message.content, 'completed'));
    }
    for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
      if (!isRecord(call) || !isRecord(call.function)) continue;
      const args = typeof call.function.arguments === 'string' ? call.function.arguments : '{}';
      const callId = typeof call.id === 'string' ? call.id : `call_${hex(12)}`;
      this.output.push(
        functionCallItem(`fc_${hex(24)}`, callId, String(call.function.name), args, 'completed'),
      );
    }
    const usage = isRecord(completion) && isRecord(completion.usage) ? completion.usage : {};
    this.promptTokens = tokens(usage.prompt_tokens);
    this.completionTokens = tokens(usage.completion_tokens);
    this.finishReason = isRecord(choice) ? choice.finish_reason : null;
    this.final = this.finished();
    return this.final;
  }

  errorBody(error: BackendError): object {
    return openAIError(error.status, error.message, error.code);
  }

  open(): string {
    const created = this.response('in_progress');
    return (
      this.event('response.created', { response: created }) +
      this.event('response.in_progress', { response: created })
    );
  }

  chunk(chunk: Json): string {
    let out = '';
    if (isRecord(chunk.usage)) {
      this.promptTokens = tokens(chunk.usage.prompt_tokens);
      this.completionTokens = tokens(chunk.usage.completion_tokens);
    }
    const choice = Array.isArray(chunk.choices)
      ? chunk.choices.find((c) => isRecord(c) && (c.index ?? 0) === 0)
      : undefined;
    if (!isRecord(choice)) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.open_?.kind !== 'message') {
        out += this.closeItem();
        const id = `msg_${hex(24)}`;
        const index = this.output.length;
        this.open_ = { kind: 'message', index, id, text: '' };
        const item = messageItem(id, '', 'in_progress');
        this.output.push(item);
        out += this.event('response.output_item.added', { output_index: index, item });
        out += this.event('response.content_part.added', {
          item_id: id,
          output_index: index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        });
      }
      const open = this.open_ as { kind: 'message'; index: number; id: string; text: string };
      open.text += delta.content;
      out += this.event('response.output_text.delta', {
        item_id: open.id,
        output_index: open.index,
        content_index: 0,
        delta: delta.content,
        logprobs: [],
      });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : {};
      const toolIndex = typeof call.index === 'number' ? call.index : 0;
      if (this.open_?.kind !== 'call' || this.open_.toolIndex !== toolIndex) {
        out += this.closeItem();
        const id = `fc_${hex(24)}`;
        const callId = typeof call.id === 'string' ? call.id : `call_${hex(12)}`;
        const index = this.output.length;
        const name = String(fn.name ?? '');
        this.open_ = { kind: 'call', index, id, callId, name, args: '', toolIndex };
        const item = functionCallItem(id, callId, name, '', 'in_progress');
        this.output.push(item);
        out += this.event('response.output_item.added', { output_index: index, item });
      }
      const open = this.open_ as { kind: 'call'; index: number; id: string; args: string };
      if (typeof fn.arguments === 'string' && fn.arguments !== '') {
        open.args += fn.arguments;
        out += this.event('response.function_call_arguments.delta', {
          item_id: open.id,
          output_index: open.index,
          delta: fn.arguments,
        });
      }
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined)
      this.finishReason = choice.finish_reason;
    return out;
  }

  streamError(error: BackendError): string {
    let out = this.closeItem();
    const failed = this.response('failed', {
      error: { code: error.code ?? 'server_error', message: error.message },
      usage: usageObject(this.promptTokens, this.completionTokens),
    });
    out += this.event('response.failed', { response: failed });
    // `error` carries the OpenAI error object too, so the SDKs raise it.
    const body = openAIError(error.status, error.message, error.code);
    return (
      out + this.event('error', { code: error.code, message: error.message, param: null, error: body.error })
    );
  }

  close(): string {
    const out = this.closeItem();
    this.final = this.finished();
    return (
      out +
      this.event(this.final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', {
        response: this.final,
      })
    );
  }

  private finished(): Json {
    const incomplete = this.finishReason === 'length';
    return this.response(incomplete ? 'incomplete' : 'completed', {
      incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
      usage: usageObject(this.promptTokens, this.completionTokens),
    });
  }

  private closeItem(): string {
    const open = this.open_;
    if (!open) return '';
    this.open_ = null;
    if (open.kind === 'message') {
      const item = messageItem(open.id, open.text, 'completed');
      this.output[open.index] = item;
      const part = (item.content as Json[])[0];
      return (
        this.event('response.output_text.done', {
          item_id: open.id,
          output_index: open.index,
          content_index: 0,
          text: open.text,
          logprobs: [],
        }) +
        this.event('response.content_part.done', {
          item_id: open.id,
          output_index: open.index,
          content_index: 0,
          part,
        }) +
        this.event('response.output_item.done', { output_index: open.index, item })
      );
    }
    const item = functionCallItem(open.id, open.callId, open.name, open.args, 'completed');
    this.output[open.index] = item;
    return (
      this.event('response.function_call_arguments.done', {
        item_id: open.id,
        output_index: open.index,
        name: open.name,
        arguments: open.args,
      }) + this.event('response.output_item.done', { output_index: open.index, item })
    );
  }

  private event(type: string, fields: Json): string {
    return namedSseFrame(type, { type, sequence_number: this.sequence++, ...fields });
  }
}
