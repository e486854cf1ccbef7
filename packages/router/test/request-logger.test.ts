/**
 * `request.log` is made on first use (http/request-logger.ts): it must write what pino's own
 * child would (the request id bound, credentials redacted, the route's level honoured) and
 * not make the child for a line below the level.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyRequestLogger } from '../src/http/request-logger.js';
import { REDACTED_PATHS } from '../src/observability/logger.js';

function parentLogger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const log = pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
  return { log, lines };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('per-request logger', () => {
  it('writes with the request id bound and credentials redacted, as pino child would', async () => {
    const { log, lines } = parentLogger('info');
    const child = vi.spyOn(log, 'child');
    const logger = lazyRequestLogger(log, { reqId: 'req-1' }, {});
    expect(logger.level).toBe('info');
    logger.debug({ detail: 1 }, 'below the level');
    expect(child).not.toHaveBeenCalled();
    logger.warn({ authorization: 'Bearer sk_secretsecret' }, 'something failed');
    logger.info('and again');
    await settle();
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ reqId: 'req-1', msg: 'something failed', authorization: '[redacted]' });
    expect(lines[1]).toMatchObject({ reqId: 'req-1', msg: 'and again' });
  });

  it("honours a route's own level", async () => {
    const { log, lines } = parentLogger('info');
    const logger = lazyRequestLogger(log, { reqId: 'req-2' }, { level: 'debug' });
    expect(logger.level).toBe('debug');
    logger.debug('shown at debug');
    await settle();
    expect(lines).toEqual([expect.objectContaining({ reqId: 'req-2', msg: 'shown at debug' })]);
  });

  it('makes children of its own with both bindings', async () => {
    const { log, lines } = parentLogger('info');
    lazyRequestLogger(log, { reqId: 'req-3' }, {}).child({ part: 'x' }).error('failed');
    await settle();
    expect(lines).toEqual([expect.objectContaining({ reqId: 'req-3', part: 'x', msg: 'failed' })]);
  });
});
