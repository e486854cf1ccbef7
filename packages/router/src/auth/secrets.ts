/** Random credentials and their stored form. Only hashes of keys and tokens reach the database. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters from [A-Za-z0-9], without modulo bias. */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 62 * 4: bytes above it would make the first characters more likely.
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

export const newApiKey = (): string => `sk_${randomAlphanumeric(32)}`;
export const newNodeToken = (): string => `nt_${randomUUID()}`;
export const newPassword = (): string => randomAlphanumeric(20);
