/**
 * Anthropic Messages on the router's `/v1/messages`: edge validation of the request body and
 * Anthropic's error shape (`{type:"error", error:{type, message}}`), so Anthropic SDKs (and
 * Claude Code) surface the router's errors as their own.
 */
import { z } from 'zod';

const Block = z.object({ type: z.string() }).passthrough();
const Content = z.union([z.string(), z.array(Block)]);

export const MessagesRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    max_tokens: z.number().int().positive(),
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: Content }).passthrough())
      .min(1),
    system: Content.optional(),
    stream: z.boolean().optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().nonnegative().optional(),
    stop_sequences: z.array(z.string()).max(16).optional(),
    tools: z
      .array(
        z
          .object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.unknown() })
          .passthrough(),
      )
      .optional(),
    tool_choice: z
      .object({
        type: z.enum(['auto', 'any', 'tool', 'none']),
        name: z.string().optional(),
        disable_parallel_tool_use: z.boolean().optional(),
      })
      .passthrough()
      .optional(),
    metadata: z.object({ user_id: z.string().nullish() }).passthrough().optional(),
  })
  .passthrough();
export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;

export const CountTokensRequestSchema = MessagesRequestSchema.omit({ max_tokens: true });

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** Anthropic's error `type` for each HTTP status the router emits. */
export function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

export function anthropicError(status: number, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}
