/** Tools about the fleet and traffic: list_nodes, node_details, router_stats, request_history. */

import { NODE_STATUSES } from '@llm-router/protocol';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { RouterClient } from '../router-client.js';
import { ToolFailure } from '../router-client.js';
import { guarded, json, ok } from './result.js';

// biome-ignore lint/suspicious/noExplicitAny: node JSON from the router, read field by field.
type NodeJson = any;

const nodeLine = (n: NodeJson) =>
  `${n.id}  ${n.custom_name ?? n.machine_name}  ${n.status}  ${n.base_url}  models: ${
    (n.models ?? [])
      .map((m: { id: string; ready?: boolean }) => `${m.id}${m.ready ? '' : ' (loading)'}`)
      .join(', ') || 'none'
  }`;

export function registerFleetTools(server: McpServer, router: RouterClient): void {
  server.registerTool(
    'list_nodes',
    {
      title: 'List nodes',
      description:
        'List the inference nodes registered with the router: id, name, status (pending, registering, online, offline), URL, models and latest metrics. Needs admin credentials.',
      inputSchema: { status: z.enum(NODE_STATUSES).optional().describe('Only nodes in this state') },
    },
    ({ status }) =>
      guarded(async () => {
        const { body } = await router.call('GET', '/v0/nodes');
        const nodes = (body as NodeJson[]).filter((n) => !status || n.status === status);
        const text = nodes.length
          ? `${nodes.length} node(s):\n${nodes.map(nodeLine).join('\n')}`
          : `No nodes${status ? ` with status ${status}` : ''}.`;
        return ok(text, { nodes });
      }),
  );

  server.registerTool(
    'node_details',
    {
      title: 'Node details',
      description:
        'One node in depth: its record (models, GPU, metrics, request counters), its metrics history and the tail of its log. Needs admin credentials.',
      inputSchema: {
        id: z.string().min(1).describe('Node id (from list_nodes)'),
        log_lines: z.number().int().min(1).max(1000).default(50).describe('Log entries to fetch'),
        metric_samples: z
          .number()
          .int()
          .min(1)
          .max(360)
          .default(10)
          .describe('Latest metric samples to include'),
      },
    },
    ({ id, log_lines, metric_samples }) =>
      guarded(async () => {
        const { body: nodes } = await router.call('GET', '/v0/nodes');
        const node = (nodes as NodeJson[]).find((n) => n.id === id);
        if (!node)
          throw new ToolFailure(
            `No node with id '${id}'. Call list_nodes to see the registered node ids.`,
            404,
          );
        const encoded = encodeURIComponent(id);
        const metrics = await router.call('GET', `/v0/dashboard/metrics/${encoded}`, { allow: [404] });
        const logs = await router
          .call('GET', `/v0/nodes/${encoded}/logs?limit=${log_lines}`)
          .then((r) => ({ entries: r.body.entries ?? [], error: null as string | null }))
          .catch((error: Error) => ({ entries: [], error: error.message }));
        const samples = ((metrics.body?.samples ?? []) as unknown[]).slice(-metric_samples);
        const text = [
          nodeLine(node),
          `metrics now: ${json(node.metrics)}`,
          `router counters: ${json(node.router_stats)}`,
          `metric samples: ${samples.length}`,
          logs.error ? `logs unavailable: ${logs.error}` : `last ${logs.entries.length} log entries:`,
          ...logs.entries.map((e: unknown) => (typeof e === 'string' ? e : JSON.stringify(e))),
        ].join('\n');
        return ok(text, { node, metric_samples: samples, logs: logs.entries, logs_error: logs.error });
      }),
  );

  server.registerTool(
    'router_stats',
    {
      title: 'Router statistics',
      description:
        'Fleet and traffic totals: nodes by state, requests (total, successful, failed), average latency and usage, and whether each cloud provider key (openai/google/anthropic) is set. Needs admin credentials.',
      inputSchema: {},
    },
    () =>
      guarded(async () => {
        const { body } = await router.call('GET', '/v0/dashboard/stats');
        return ok(json(body), body);
      }),
  );

  server.registerTool(
    'request_history',
    {
      title: 'Request history',
      description:
        'Past /v1 requests recorded by the router (newest first), filtered and paged; or one full record (request and response bodies) with `id`. Needs admin credentials.',
      inputSchema: {
        id: z.string().min(1).optional().describe('One record id: returns the full record'),
        model: z.string().optional(),
        node_id: z.string().optional(),
        status: z.enum(['success', 'error']).optional(),
        api_key_id: z.string().optional(),
        from: z.string().optional().describe('ISO-8601 time or epoch milliseconds'),
        to: z.string().optional().describe('ISO-8601 time or epoch milliseconds'),
        page: z.number().int().min(1).default(1),
        per_page: z.union([z.literal(10), z.literal(25), z.literal(50), z.literal(100)]).default(25),
      },
    },
    ({ id, ...filters }) =>
      guarded(async () => {
        if (id) {
          const { body } = await router.call(
            'GET',
            `/v0/dashboard/request-responses/${encodeURIComponent(id)}`,
          );
          return ok(json(body), body);
        }
        const query = new URLSearchParams();
        for (const [key, value] of Object.entries(filters))
          if (value !== undefined) query.set(key, String(value));
        const { body } = await router.call('GET', `/v0/dashboard/request-responses?${query}`);
        const lines = (body.records as NodeJson[]).map(
          (r) =>
            `${r.timestamp}  ${r.id}  ${r.request_type} ${r.model}  ${r.status} ${r.status_code}  ${r.duration_ms} ms  node ${r.node_id ?? '-'}${r.error_message ? `  ${r.error_message}` : ''}`,
        );
        const text = `page ${body.page}/${body.total_pages}, ${body.total} record(s)\n${lines.join('\n')}`;
        return ok(text, body);
      }),
  );
}
