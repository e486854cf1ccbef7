/** Inference tools: chat (node models and cloud prefixes) and embeddings, through /v1. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type RouterClient, ToolFailure } from '../router-client.js';
import { guarded, ok } from './result.js';

const Message = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});

export function registerInferenceTools(server: McpServer, router: RouterClient): void {
  server.registerTool(
    'chat',
    {
      title: 'Chat completion',
      description:
        'Send a chat completion through the router (POST /v1/chat/completions, not streamed). `model` is a node model id from list_models, or a cloud model with a provider prefix: "openai:gpt-4o-mini", "google:gemini-2.0-flash", "anthropic:claude-3-5-haiku-latest" (the router needs that provider\'s key). Give `messages`, or just `prompt` (optionally with `system`).',
      inputSchema: {
        model: z.string().min(1),
        messages: z.array(Message).min(1).optional(),
        prompt: z.string().min(1).optional().describe('Shorthand for one user message'),
        system: z.string().min(1).optional().describe('System prompt placed before the messages'),
        max_tokens: z.number().int().positive().max(1_000_000).optional(),
        temperature: z.number().min(0).max(2).optional(),
      },
    },
    ({ model, messages, prompt, system, max_tokens, temperature }) =>
      guarded(async () => {
        if (!messages && !prompt) throw new ToolFailure('Give either `messages` or `prompt`.');
        const all = [
          ...(system ? [{ role: 'system', content: system }] : []),
          ...(messages ?? []),
          ...(prompt ? [{ role: 'user', content: prompt }] : []),
        ];
        const { body } = await router.call('POST', '/v1/chat/completions', {
          body: { model, messages: all, max_tokens, temperature, stream: false },
        });
        const choice = body.choices?.[0];
        const text = choice?.message?.content ?? '';
        const usage = body.usage
          ? `\n\n[${body.model} · ${body.usage.prompt_tokens} prompt + ${body.usage.completion_tokens} completion tokens · finish ${choice?.finish_reason}]`
          : '';
        return ok(`${text}${usage}`, {
          content: text,
          finish_reason: choice?.finish_reason ?? null,
          model: body.model ?? model,
          usage: body.usage ?? null,
          response: body,
        });
      }),
  );

  server.registerTool(
    'embeddings',
    {
      title: 'Embeddings',
      description:
        'Compute embeddings through the router (POST /v1/embeddings) with a model that has the embeddings capability (see list_models), or a cloud model such as "openai:text-embedding-3-small".',
      inputSchema: {
        model: z.string().min(1),
        input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      },
    },
    ({ model, input }) =>
      guarded(async () => {
        const { body } = await router.call('POST', '/v1/embeddings', {
          body: { model, input, encoding_format: 'float' },
        });
        const vectors = (body.data ?? []).map((d: { embedding: number[] }) => d.embedding);
        const preview = vectors
          .map(
            (v: number[], i: number) =>
              `#${i}: ${v.length} dims [${v
                .slice(0, 4)
                .map((x) => x.toFixed(4))
                .join(', ')}, …]`,
          )
          .join('\n');
        return ok(`${vectors.length} embedding(s) from ${body.model ?? model}\n${preview}`, {
          model: body.model ?? model,
          embeddings: vectors,
          usage: body.usage ?? null,
        });
      }),
  );
}
