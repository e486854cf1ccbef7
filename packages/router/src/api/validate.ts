/** Parses a body or query with a zod schema, turning failures into a 400 that names the field. */
import { describeValidationError } from '@llm-router/protocol';
import type { z } from 'zod';
import { badRequest } from '../http/errors.js';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_body');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const { message, param } = describeValidationError(result.error);
    throw badRequest(message, param, 'validation_error');
  }
  return result.data;
}
