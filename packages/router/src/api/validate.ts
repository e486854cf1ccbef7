/** Parses a body or query with a zod schema, turning failures into a 400 that names the field. */
import { describeValidationError } from '@llm-router/protocol';
import type { z } from 'zod';
import { badRequest } from '../http/errors.js';

/** Whether any string in a parsed JSON value contains a NUL character (databases refuse them). */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1));
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('Request body must be a JSON object', null, 'invalid_body');
  }
  if (containsNul(value))
    throw badRequest('Text fields must not contain NUL characters', null, 'invalid_text');
  const result = schema.safeParse(value);
  if (!result.success) {
    const { message, param } = describeValidationError(result.error);
    throw badRequest(message, param, 'validation_error');
  }
  return result.data;
}
