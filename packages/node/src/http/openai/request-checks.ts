/**
 * Edge checks shared by the `/v1` routes: body validation with the protocol's zod schemas, the
 * parameters this node refuses rather than silently ignores, and model lookup.
 */
import { describeValidationError, type ModelCapability } from '@llm-router/protocol';
import type { z } from 'zod';
import type { ManagedModel } from '../../models/model-manager.js';
import type { NodeServices } from '../../services.js';
import { badRequest, HttpError, unsupportedParameter } from '../errors.js';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_json');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const { message, param } = describeValidationError(result.error);
    throw badRequest(message, param, 'invalid_value');
  }
  return result.data;
}

type Body = Record<string, unknown>;

const present = (value: unknown) => value !== undefined && value !== null;
const nonEmptyArray = (value: unknown) => Array.isArray(value) && value.length > 0;
const nonEmptyObject = (value: unknown) =>
  typeof value === 'object' && value !== null && Object.keys(value as object).length > 0;

function rejectCommon(body: Body): void {
  if (typeof body.n === 'number' && body.n > 1) {
    throw unsupportedParameter('n', 'greater than 1 is not supported by this node; send separate requests');
  }
  if (nonEmptyObject(body.logit_bias)) throw unsupportedParameter('logit_bias');
}

/** Chat parameters we cannot honour: better a clear 400 than an answer that ignores them. */
export function rejectUnsupportedChatParameters(body: Body): void {
  rejectCommon(body);
  if (nonEmptyArray(body.tools)) throw unsupportedParameter('tools', 'are not supported by this node');
  if (nonEmptyArray(body.functions))
    throw unsupportedParameter('functions', 'are not supported by this node');
  if (present(body.tool_choice) && body.tool_choice !== 'none' && body.tool_choice !== 'auto') {
    throw unsupportedParameter('tool_choice');
  }
  if (body.logprobs === true) throw unsupportedParameter('logprobs');
  if (present(body.top_logprobs)) throw unsupportedParameter('top_logprobs');
  const format = body.response_format as { type?: unknown } | undefined | null;
  if (present(format) && format?.type !== 'text') {
    throw new HttpError(
      400,
      `'response_format' of type '${String(format?.type)}' is not supported by this node; only 'text' is`,
      'unsupported_parameter',
      'response_format',
    );
  }
  if (present(body.audio)) throw unsupportedParameter('audio');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text')) {
    throw unsupportedParameter('modalities', 'other than text are not supported by this node');
  }
  if (present(body.prediction)) throw unsupportedParameter('prediction');
}

export function rejectUnsupportedCompletionParameters(body: Body): void {
  rejectCommon(body);
  if (typeof body.best_of === 'number' && body.best_of > 1) throw unsupportedParameter('best_of');
  if (body.echo === true) throw unsupportedParameter('echo');
  if (present(body.logprobs) && body.logprobs !== 0 && body.logprobs !== false) {
    throw unsupportedParameter('logprobs');
  }
  if (typeof body.suffix === 'string' && body.suffix !== '') throw unsupportedParameter('suffix');
}

/** Finds a model that is ready for this kind of request, or the precise reason why not. */
export function resolveModel(services: NodeServices, id: string, capability: ModelCapability): ManagedModel {
  const model = services.models.get(id);
  if (!model) {
    throw new HttpError(404, `The model '${id}' does not exist on this node`, 'model_not_found', 'model');
  }
  if (model.state === 'loading') {
    throw new HttpError(
      503,
      `The model '${id}' is still loading; try again shortly`,
      'model_loading',
      'model',
      {
        'retry-after': '2',
      },
    );
  }
  if (model.state === 'failed' || !model.loaded) {
    throw new HttpError(
      503,
      `The model '${id}' failed to load: ${model.error}`,
      'model_unavailable',
      'model',
    );
  }
  if (!model.loaded.capabilities.includes(capability)) {
    const what = capability === 'embeddings' ? 'create embeddings' : 'generate text';
    throw new HttpError(400, `The model '${id}' cannot ${what}`, 'model_not_supported', 'model');
  }
  return model;
}

export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === undefined || stop === null) return [];
  return typeof stop === 'string' ? [stop] : stop;
}
