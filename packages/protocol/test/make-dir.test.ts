/** Creating data and log folders: nested paths, existing ones, and paths that cannot be made. */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirSync } from '../src/make-dir.js';

const root = mkdtempSync(join(tmpdir(), 'make-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirSync', () => {
  it('creates missing parents and accepts a folder that exists', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirSync(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    makeDirSync(dir);
    makeDirSync(root);
  });

  it('throws the error of the level that cannot be made', () => {
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirSync(join(file, 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    // Where Node's recursive mkdirSync never returns: the kernel's ENOENT comes back instead.
    expect(() => makeDirSync('/proc/llm-router-test/data')).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});
