/** Pure logic: the sequence queue, stop strings, the model catalog, log tail bounds, GPU devices. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTail } from '../src/http/ops-routes.js';
import { PoolClosedError, QueueFullError, SequencePool } from '../src/inference/sequence-pool.js';
import { StopStringMatcher } from '../src/inference/stop-strings.js';
import { describeGpuDevices } from '../src/llama/runtime.js';
import { pickModelFile, scanModelsDir } from '../src/models/catalog.js';
import { CpuSampler } from '../src/observability/system-stats.js';
import { removeTempDirs, tempDir } from './support.js';

afterAll(() => removeTempDirs());

describe('SequencePool', () => {
  it('hands out free items, queues FIFO up to the limit, and refuses beyond it', async () => {
    const pool = new SequencePool(['a', 'b'], 2);
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect(new Set([first.item, second.item])).toEqual(new Set(['a', 'b']));
    const order: string[] = [];
    const third = pool.acquire().then((lease) => {
      order.push('third');
      return lease;
    });
    const fourth = pool.acquire().then((lease) => {
      order.push('fourth');
      return lease;
    });
    expect(pool.queued).toBe(2);
    await expect(pool.acquire()).rejects.toBeInstanceOf(QueueFullError);
    first.release();
    first.release(); // a second release is ignored
    const thirdLease = await third;
    expect(thirdLease.item).toBe(first.item);
    second.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    expect(pool.busy).toBe(2);
  });

  it('drops a waiter whose request was aborted', async () => {
    const pool = new SequencePool(['only'], 5);
    const lease = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
    expect(pool.queued).toBe(0);
    lease.release();
    expect(pool.busy).toBe(0);
  });

  it('on close fails waiters and reports idle once leases are returned', async () => {
    const pool = new SequencePool(['only'], 5);
    const lease = await pool.acquire();
    const waiting = pool.acquire();
    let idle = false;
    const whenIdle = pool.whenIdle().then(() => {
      idle = true;
    });
    pool.close();
    await expect(waiting).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    expect(idle).toBe(false);
    lease.release();
    await whenIdle;
    expect(idle).toBe(true);
  });
});

describe('StopStringMatcher', () => {
  const run = (stops: string[], chunks: string[]) => {
    const matcher = new StopStringMatcher(stops);
    let text = chunks.map((c) => matcher.push(c)).join('');
    text += matcher.flush();
    return { text, stopped: matcher.stopped };
  };

  it('cuts right before a stop string that starts inside a chunk', () => {
    expect(run(['Lily'], [', there', ' was a girl named', ' Lily', '. She'])).toEqual({
      text: ', there was a girl named ',
      stopped: true,
    });
  });

  it('finds stop strings split across chunks and picks the earliest', () => {
    expect(run(['END', 'b'], ['aa E', 'N', 'D b'])).toEqual({ text: 'aa ', stopped: true });
  });

  it('releases held-back text that turned out not to be a stop string', () => {
    expect(run(['\nuser:'], ['one\n', 'us', 'e', 'ful'])).toEqual({ text: 'one\nuseful', stopped: false });
    expect(run(['STOP'], ['ST'])).toEqual({ text: 'ST', stopped: false });
  });
});

describe('model catalog', () => {
  it('names loose files after the file and folders after the folder', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stories260K.gguf'), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    mkdirSync(join(dir, 'qwen-0.5b'));
    writeFileSync(join(dir, 'qwen-0.5b', 'qwen2.5-0.5b-instruct-q4_k_m.gguf'), 'x');
    writeFileSync(join(dir, 'qwen-0.5b', 'mmproj-qwen.gguf'), 'x');
    mkdirSync(join(dir, 'empty'));
    const { entries } = await scanModelsDir(dir);
    expect(entries.map((e) => [e.id, e.path])).toEqual([
      ['stories260K', join(dir, 'stories260K.gguf')],
      ['qwen-0.5b', join(dir, 'qwen-0.5b', 'qwen2.5-0.5b-instruct-q4_k_m.gguf')],
    ]);
  });

  it('picks model.gguf, else the first part of a split model, else the first file', () => {
    expect(pickModelFile(['b.gguf', 'model.gguf'])).toBe('model.gguf');
    expect(pickModelFile(['m-00002-of-00002.gguf', 'm-00001-of-00002.gguf'])).toBe('m-00001-of-00002.gguf');
    expect(pickModelFile(['b.gguf', 'a.gguf'])).toBe('a.gguf');
    expect(pickModelFile(['readme.md'])).toBeNull();
  });

  it('treats a missing directory as empty', async () => {
    expect((await scanModelsDir(join(tempDir(), 'missing'))).entries).toEqual([]);
  });
});

describe('small helpers', () => {
  it('clamps the log tail to 1..1000 with a default of 200', () => {
    expect(parseTail(undefined)).toBe(200);
    expect(parseTail('0')).toBe(1);
    expect(parseTail('5')).toBe(5);
    expect(parseTail('99999')).toBe(1000);
    expect(parseTail('lots')).toBe(200);
  });

  it('groups GPU devices by name and shares the VRAM among them', () => {
    expect(describeGpuDevices(['H100', 'H100', 'A10'], 300)).toEqual([
      { model: 'H100', count: 2, memory: 100 },
      { model: 'A10', count: 1, memory: 100 },
    ]);
  });

  it('measures CPU load as the busy share between samples', () => {
    const readings = [
      { busy: 100, total: 1000 },
      { busy: 400, total: 2000 },
    ];
    const sampler = new CpuSampler(() => readings.shift()!);
    expect(sampler.sample()).toBe(10);
    expect(sampler.sample()).toBe(30);
  });
});
