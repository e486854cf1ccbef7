/**
 * Ids made on every request (trace and span ids, the request id, the history row id), from one
 * pool of random bytes refilled in a single call every few hundred requests instead of asking
 * the kernel (or `randomUUID`'s cache) once per id.
 *
 * The request id and the history row id are UUIDv7 (RFC 9562): the first 48 bits are the
 * millisecond time, so successive ids sort by time. Both are indexed in request history, and a
 * time-ordered key is appended at the end of its index instead of landing on a random page:
 * that halves the cost of a history insert (about 44 → 23 µs a row, see docs/benchmarks.md).
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(8192);
let poolOffset = pool.length;

/** The offset of `bytes` fresh random bytes in `pool`. */
function take(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return start;
}

/** `chars` random lowercase hex characters (an even count), never all zeros (invalid in W3C ids). */
export function randomHex(chars: number): string {
  const bytes = chars / 2;
  for (;;) {
    const start = take(bytes);
    for (let i = start; i < start + bytes; i++)
      if (pool[i] !== 0) return pool.toString('hex', start, start + bytes);
  }
}

const uuid = Buffer.alloc(16);

/** A UUIDv7: 48 bits of Unix milliseconds, the version and variant bits, 74 random bits. */
export function uuidV7(now = Date.now()): string {
  const start = take(10);
  pool.copy(uuid, 6, start, start + 10);
  uuid.writeUIntBE(now, 0, 6);
  uuid[6] = 0x70 | (uuid[6] & 0x0f);
  uuid[8] = 0x80 | (uuid[8] & 0x3f);
  const hex = uuid.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
