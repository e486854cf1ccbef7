/** Model tools: list_models, register_model, model_status, delete_model. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { modelPath, type RouterClient, ToolFailure } from '../router-client.js';
import { guarded, json, ok } from './result.js';

// biome-ignore lint/suspicious/noExplicitAny: model JSON from the router, read field by field.
type ModelJson = any;

const progressText = (p: ModelJson) => {
  if (!p || typeof p !== 'object') return '';
  // The router reports `percent` as a fraction (0..1).
  return typeof p.percent === 'number' ? ` ${Math.round(p.percent * 100)}%` : '';
};

const modelLine = (m: ModelJson) =>
  `${m.id}  ${m.ready ? 'ready' : 'not ready'}${m.lifecycle_status ? `  ${m.lifecycle_status}${progressText(m.download_progress)}` : ''}  owner ${m.owned_by}${
    Array.isArray(m.nodes) && m.nodes.length
      ? `  nodes: ${m.nodes.map((n: ModelJson) => n.machine_name).join(', ')}`
      : ''
  }`;

export function registerModelTools(server: McpServer, router: RouterClient): void {
  server.registerTool(
    'list_models',
    {
      title: 'List models',
      description:
        'Every model the router can serve: models on nodes, models registered on the router (with lifecycle_status pending/caching/registered/error and download_progress) and cloud models (openai:/google:/anthropic: prefixes). `ready` is true when an online node has it loaded.',
      inputSchema: { ready_only: z.boolean().default(false).describe('Only models that can answer now') },
    },
    ({ ready_only }) =>
      guarded(async () => {
        const { body } = await router.call('GET', '/v1/models');
        const models = (body.data as ModelJson[]).filter((m) => !ready_only || m.ready);
        return ok(models.length ? models.map(modelLine).join('\n') : 'No models.', { models });
      }),
  );

  server.registerTool(
    'register_model',
    {
      title: 'Register a model',
      description:
        'Register a Hugging Face model on the router (admin). The router caches it in the background and nodes then download it; follow it with model_status. Give `repo` (e.g. "TheBloke/Llama-2-7B-GGUF" or a huggingface.co URL); pick the file with `filename` or `quantization`, or give `gguf_policy` (quality, memory, speed) to let the router choose — one of the three is required.',
      inputSchema: {
        repo: z.string().min(1).describe('Hugging Face repo id or URL'),
        filename: z.string().min(1).optional().describe('The GGUF file to use'),
        quantization: z.string().min(1).optional().describe('e.g. Q4_K_M'),
        gguf_policy: z.enum(['quality', 'memory', 'speed']).optional(),
        format: z.enum(['gguf', 'safetensors']).optional().describe('Required when the repo has both'),
        display_name: z.string().min(1).optional(),
        revision: z.string().min(1).optional(),
      },
    },
    (input) =>
      guarded(async () => {
        const { body } = await router.call('POST', '/v0/models/register', { body: input });
        const warnings =
          Array.isArray(body.warnings) && body.warnings.length
            ? `\nwarnings: ${body.warnings.join('; ')}`
            : '';
        return ok(
          `Registered ${body.name ?? body.id} (lifecycle ${body.lifecycle_status ?? 'pending'}). Call model_status to follow the download.${warnings}`,
          body,
        );
      }),
  );

  server.registerTool(
    'model_status',
    {
      title: 'Model status',
      description:
        "One model's state: whether it is ready on an online node, which nodes have it, and for a registered model its lifecycle_status, download_progress and error.",
      inputSchema: { id: z.string().min(1).describe('Model id, e.g. "org/name" or "stories260K"') },
    },
    ({ id }) =>
      guarded(async () => {
        const served = await router.call('GET', `/v1/models/${modelPath(id)}`, { allow: [404] });
        // The registry record (admin or node key) adds files and errors; optional.
        const registry = await router
          .call('GET', `/v0/models/${modelPath(id)}`, { allow: [404] })
          .catch(() => ({ status: 0, body: null }));
        if (served.status === 404 && registry.status !== 200) {
          throw new ToolFailure(
            `Model '${id}' is not known to the router. Call list_models for the ids, or register_model to add it.`,
            404,
          );
        }
        const model = served.status === 200 ? served.body : null;
        const registered = registry.status === 200 ? registry.body : null;
        const text = [
          model ? modelLine(model) : `${id}: registered, not served by any node yet`,
          registered ? `registry: ${json(registered)}` : '',
        ]
          .filter(Boolean)
          .join('\n');
        return ok(text, { model, registered });
      }),
  );

  server.registerTool(
    'delete_model',
    {
      title: 'Delete a model',
      description:
        'Delete a model registered on the router, with its cached files (admin). Nodes drop it on their next sync.',
      inputSchema: { id: z.string().min(1).describe('Registered model id') },
    },
    ({ id }) =>
      guarded(async () => {
        await router.call('DELETE', `/v0/models/${modelPath(id)}`);
        return ok(`Deleted model ${id}.`, { deleted: true, id });
      }),
  );
}
