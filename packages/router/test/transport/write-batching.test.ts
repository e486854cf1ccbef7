/**
 * Writes batched per turn of the event loop: the first of a turn at once, the rest at the turn's
 * end, in order; and the JSON replies held that way still reach their clients, or are dropped
 * quietly when the client is gone.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { sendJsonReply } from '../../src/transport/client.js';
import { batchedWrite } from '../../src/transport/write-batching.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batchedWrite', () => {
  it('runs the first write of a turn at once and the later ones, in order, at its end', async () => {
    await nextTurn();
    const ran: string[] = [];
    batchedWrite(() => ran.push('first'));
    batchedWrite(() => ran.push('second'));
    batchedWrite(() => ran.push('third'));
    expect(ran).toEqual(['first']);
    await Promise.resolve();
    expect(ran).toEqual(['first']);
    await nextTurn();
    expect(ran).toEqual(['first', 'second', 'third']);
    // A new turn: its first write goes at once again.
    batchedWrite(() => ran.push('next turn'));
    expect(ran).toEqual(['first', 'second', 'third', 'next turn']);
    await nextTurn();
  });

  it('still runs the other held writes when one throws, then reports the error', () => {
    // In a process of its own: the error is rethrown at the turn's end, outside any caller.
    const module = fileURLToPath(new URL('../../src/transport/write-batching.ts', import.meta.url));
    const script = `
      const { batchedWrite } = await import(${JSON.stringify(module)});
      const ran = [];
      process.on('uncaughtException', (error) => {
        setImmediate(() => console.log(JSON.stringify({ ran, error: error.message })));
      });
      batchedWrite(() => ran.push(1));
      batchedWrite(() => { throw new Error('broken write'); });
      batchedWrite(() => ran.push(3));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ ran: [1, 3], error: 'broken write' });
  });
});

describe('sendJsonReply held to the end of the turn', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<string> {
    app = Fastify();
    app.get('/held', (_request, reply) => {
      batchedWrite(() => {}); // this turn's first write: the reply below is held
      sendJsonReply(reply, 201, { held: true }, { 'x-extra': 'kept' });
    });
    app.get('/left', (_request, reply) => {
      batchedWrite(() => {});
      sendJsonReply(reply, 200, { never: 'sent' });
      reply.raw.destroy(); // the client is gone before the held reply is written
    });
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  it('reaches the client whole, status and headers included', async () => {
    const url = await start();
    const response = await fetch(`${url}/held`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-extra')).toBe('kept');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ held: true });
  });

  it('is dropped without an error when the client left meanwhile, and the server serves on', async () => {
    const url = await start();
    await expect(fetch(`${url}/left`)).rejects.toThrow();
    const response = await fetch(`${url}/held`);
    expect(await response.json()).toEqual({ held: true });
  });
});
