/**
 * `llm-router model register|list|delete`: talks HTTP to a running router (`--router`, or
 * LLM_ROUTER_URL, default http://127.0.0.1:8080) with an admin credential from the environment
 * (LLM_ROUTER_API_KEY with `admin:*`, or LLM_ROUTER_JWT_TOKEN). `register` follows the cache
 * task: a progress bar on a terminal, one line per state change otherwise.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// biome-ignore lint/suspicious/noExplicitAny: the router's JSON replies are read field by field.
type Json = any;

export interface ModelCliContext {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Builds the CLI's usage error (exit code 2). */
  usageError(message: string): Error;
  pollMs?: number;
}

const MIB = 1024 * 1024;
export const formatBytes = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined
    ? '?'
    : bytes >= 1024 * MIB
      ? `${(bytes / (1024 * MIB)).toFixed(2)} GiB`
      : bytes >= MIB
        ? `${(bytes / MIB).toFixed(1)} MiB`
        : `${(bytes / 1024).toFixed(1)} KiB`;

/** One line of the progress bar, e.g. `[########------------]  40.0%  1.2 MiB / 3.0 MiB  caching`. */
export function renderProgressBar(progress: Json, status: string, width = 30): string {
  const percent = Math.max(0, Math.min(1, Number(progress?.percent ?? 0)));
  const filled = Math.round(percent * width);
  const bytes = `${formatBytes(progress?.bytes_downloaded ?? 0)} / ${formatBytes(progress?.bytes_total)}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(percent * 100).toFixed(1).padStart(5)}%  ${bytes}  ${status}`;
}

class RouterClient {
  constructor(
    private readonly base: string,
    private readonly credential: string,
  ) {}

  async send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.credential}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(
        `cannot reach the router at ${this.base}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    if (response.status >= 400) {
      const message = parsed?.error?.message ?? (typeof parsed === 'string' ? parsed : response.statusText);
      throw new Error(`${message} (HTTP ${response.status})`);
    }
    return { status: response.status, body: parsed };
  }
}

function clientFor(values: { router?: string }, ctx: ModelCliContext): RouterClient {
  const base = (values.router ?? ctx.env.LLM_ROUTER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const credential = ctx.env.LLM_ROUTER_API_KEY || ctx.env.LLM_ROUTER_JWT_TOKEN;
  if (!credential) {
    throw ctx.usageError(
      'set LLM_ROUTER_API_KEY (a key with admin:*) or LLM_ROUTER_JWT_TOKEN (an admin session)',
    );
  }
  return new RouterClient(base, credential);
}

export async function modelCommand(
  sub: string | undefined,
  args: string[],
  ctx: ModelCliContext,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      router: { type: 'string' },
      format: { type: 'string' },
      filename: { type: 'string' },
      quantization: { type: 'string' },
      'gguf-policy': { type: 'string' },
      policy: { type: 'string' },
      'display-name': { type: 'string' },
      'chat-template-file': { type: 'string' },
      revision: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (sub === 'list') return listModels(clientFor(values, ctx), values.json ?? false, ctx);
  if (sub === 'delete') {
    const id = positionals[0];
    if (!id) throw ctx.usageError('model delete needs the model id (see model list)');
    await clientFor(values, ctx).send('DELETE', `/v0/models/${encodeURIComponent(id)}`);
    ctx.stdout.write(`deleted ${id}\n`);
    return;
  }
  if (sub === 'register') {
    const repo = positionals[0];
    if (!repo) throw ctx.usageError('model register needs a repo (org/name or a Hugging Face URL)');
    const body: Record<string, string> = { repo };
    const optional: Array<[string, string | undefined]> = [
      ['format', values.format],
      ['filename', values.filename],
      ['quantization', values.quantization],
      ['gguf_policy', values['gguf-policy'] ?? values.policy],
      ['display_name', values['display-name']],
      ['revision', values.revision],
    ];
    for (const [key, value] of optional) if (value !== undefined) body[key] = value;
    if (values['chat-template-file']) body.chat_template = readFileSync(values['chat-template-file'], 'utf8');
    const client = clientFor(values, ctx);
    const { body: reply } = await client.send('POST', '/v0/models/register', body);
    if (values.json) ctx.stdout.write(`${JSON.stringify(reply)}\n`);
    else {
      ctx.stdout.write(
        `registered ${reply.name}: ${reply.format} ${reply.filename}${reply.quantization ? ` (${reply.quantization})` : ''}, ` +
          `${formatBytes(reply.size_bytes)}, needs about ${formatBytes(reply.required_memory_bytes)}\n`,
      );
      for (const warning of reply.warnings ?? []) ctx.stdout.write(`warning: ${warning}\n`);
    }
    if (values['no-wait']) return;
    return followCaching(client, reply.name, ctx);
  }
  throw ctx.usageError(`unknown model command: ${sub ?? '(none)'} (register, list or delete)`);
}

async function listModels(client: RouterClient, json: boolean, ctx: ModelCliContext): Promise<void> {
  const { body } = await client.send('GET', '/v0/models');
  if (json) {
    ctx.stdout.write(`${JSON.stringify(body)}\n`);
    return;
  }
  const rows = [['ID', 'FORMAT', 'QUANT', 'SIZE', 'STATUS', 'PROGRESS']];
  for (const m of body as Json[]) {
    rows.push([
      m.name,
      m.format,
      m.quantization ?? '-',
      formatBytes(m.size),
      m.servable ? m.lifecycle_status : `${m.lifecycle_status} (not servable)`,
      `${((m.download_progress?.percent ?? 0) * 100).toFixed(1)}%`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const row of rows)
    ctx.stdout.write(
      `${row
        .map((c, i) => String(c).padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Polls the model until it is cached or failed; exits non-zero (by throwing) on failure. */
async function followCaching(client: RouterClient, id: string, ctx: ModelCliContext): Promise<void> {
  const tty = Boolean(ctx.stderr.isTTY);
  let lastStatus = '';
  for (;;) {
    const { body: model } = await client.send('GET', `/v0/models/${encodeURIComponent(id)}`);
    const status: string = model.lifecycle_status;
    const running = (model.tasks ?? []).find((t: Json) => t.status === 'in_progress');
    const label = running?.kind === 'quantize' ? 'quantizing' : status;
    if (tty) ctx.stderr.write(`\r${renderProgressBar(model.download_progress, label)}\u001b[K`);
    else if (label !== lastStatus) ctx.stderr.write(`${id}: ${label}\n`);
    lastStatus = label;
    if (status === 'registered' || status === 'error') {
      if (tty) ctx.stderr.write('\n');
      if (status === 'error')
        throw new Error(`caching ${id} failed: ${model.error ?? model.download_progress?.error}`);
      ctx.stdout.write(
        `${id} is cached and ready for nodes${model.servable ? '' : ` (not servable: ${model.servable_reason})`}\n`,
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, ctx.pollMs ?? 500));
  }
}
