import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forgetHostFiles, hostFileBytes, hostFileSha256, hostFilesKept } from '../../src/sim/host-files.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('host files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'simrun-host-files-'));
    forgetHostFiles();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file once and hands out the same bytes and hash while it is unchanged', () => {
    const p = join(dir, 'a.img');
    writeFileSync(p, Buffer.alloc(8192, 7));
    const a = hostFileBytes(p);
    expect(hostFileBytes(join(dir, '.', 'a.img'))).toBe(a);
    expect(hostFileSha256(p)).toBe(sha(a));
    expect(hostFilesKept()).toEqual({ files: 1, bytes: 8192 });
  });

  it('reads the file again after it was rewritten, even with the same size', () => {
    const p = join(dir, 'a.img');
    writeFileSync(p, Buffer.alloc(4096, 1));
    const before = hostFileSha256(p);
    writeFileSync(p, Buffer.alloc(4096, 2));
    expect(hostFileBytes(p)[0]).toBe(2);
    expect(hostFileSha256(p)).not.toBe(before);
    expect(hostFileSha256(p)).toBe(sha(Buffer.alloc(4096, 2)));
    expect(hostFilesKept().files).toBe(1);
  });

  it('throws the fs error for a missing file or a folder, and keeps nothing', () => {
    expect(() => hostFileBytes(join(dir, 'nope.img'))).toThrow(/ENOENT/);
    expect(() => hostFileSha256(dir)).toThrow(/EISDIR/);
    expect(hostFilesKept().files).toBe(0);
  });

  it('keeps a bounded total, dropping the least recently used files first', () => {
    const big = Buffer.alloc(48 * 1024 * 1024);
    const names = ['1', '2', '3', '4'].map((n) => join(dir, `${n}.img`));
    for (const n of names) writeFileSync(n, big);
    const zero = hostFileBytes(names[0]!);
    const one = hostFileBytes(names[1]!);
    hostFileBytes(names[2]!);
    hostFileBytes(names[0]!); // most recent now: 2 goes first
    hostFileBytes(names[3]!);
    const kept = hostFilesKept();
    expect(kept.files).toBe(3);
    expect(kept.bytes).toBeLessThanOrEqual(160 * 1024 * 1024);
    // Identity, not content (toBe's failure message would compare 48 MiB deeply).
    expect(hostFileBytes(names[0]!) === zero).toBe(true);
    expect(hostFileBytes(names[1]!) === one).toBe(false); // dropped, read again
    expect(hostFilesKept().files).toBe(3);
  });
});
