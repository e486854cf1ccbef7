/**
 * Edge validation for the OpenAI-compatible request bodies. Only what the router and node
 * must understand is checked; unknown fields pass through untouched (the router forwards the
 * original bytes).
 */
import { z } from 'zod';

const ContentPart = z.object({ type: z.string() }).passthrough();

export const ChatMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
    name: z.string().optional(),
  })
  .passthrough();

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const streamOptions = z.object({ include_usage: z.boolean().optional() }).passthrough().nullish();

const sampling = {
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  n: z.number().int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
};

export const ChatCompletionRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    messages: z.array(ChatMessageSchema).min(1),
    max_completion_tokens: z.number().int().positive().nullish(),
    ...sampling,
  })
  .passthrough();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    prompt: z.union([z.string(), z.array(z.string()).min(1)]),
    ...sampling,
  })
  .passthrough();
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

export const EmbeddingRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    input: z.union([z.string(), z.array(z.string()).min(1)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().positive().optional(),
  })
  .passthrough();
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

/** Turns a zod failure into one readable sentence naming the offending field. */
export function describeValidationError(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  if (!issue) return { message: 'Invalid request body', param: null };
  const param = issue.path.length > 0 ? issue.path.join('.') : null;
  return { message: param ? `Invalid value for '${param}': ${issue.message}` : issue.message, param };
}

/** `POST /v1/responses` (OpenAI Responses): what the router checks at the edge. */
export const ResponsesRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    input: z.union([z.string(), z.array(z.object({}).passthrough())]),
    instructions: z.string().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    stream: z.boolean().nullish(),
    store: z.boolean().nullish(),
    previous_response_id: z.string().min(1).max(256).nullish(),
    tools: z.array(z.object({ type: z.string() }).passthrough()).nullish(),
    tool_choice: z.union([z.string(), z.object({ type: z.string() }).passthrough()]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    user: z.string().nullish(),
  })
  .passthrough();
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
