/**
 * GGUF header check: a file that passed its hash can still be something other than a GGUF
 * (a repo that mislabels an HTML page or a git-LFS pointer), and nodes should never get it.
 */
import { open } from 'node:fs/promises';

export const GGUF_HEADER_BYTES = 24;
/** Far above any real model; a larger count means the bytes are not a GGUF header. */
const MAX_COUNT = 2n ** 32n;

/** Returns null for a valid header, else why it is not one. */
export function checkGgufHeader(header: Buffer): string | null {
  if (header.length < GGUF_HEADER_BYTES) return `file is ${header.length} bytes, shorter than a GGUF header`;
  if (header.toString('latin1', 0, 4) !== 'GGUF') return "missing the 'GGUF' magic bytes";
  const version = header.readUInt32LE(4);
  if (version < 1 || version > 3) return `unsupported GGUF version ${version}`;
  const tensors = header.readBigUInt64LE(8);
  const metadata = header.readBigUInt64LE(16);
  if (tensors > MAX_COUNT || metadata > MAX_COUNT) return 'implausible tensor or metadata count';
  return null;
}

export async function checkGgufFile(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(GGUF_HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, GGUF_HEADER_BYTES, 0);
    return checkGgufHeader(header.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** A minimal valid GGUF (v3, no tensors, no metadata) followed by `payload`: for tests and demos. */
export function syntheticGguf(payload: Buffer | string = ''): Buffer {
  const header = Buffer.alloc(GGUF_HEADER_BYTES);
  header.write('GGUF', 0, 'latin1');
  header.writeUInt32LE(3, 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}
