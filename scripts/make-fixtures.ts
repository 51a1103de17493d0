/**
 * Regenerates the deterministic fixtures in fixtures/: the NVMe disk image.
 * Each 512-byte block starts with "SIMRUN LBA " and its number, then a
 * pattern that depends on the LBA and the byte offset, so every block is
 * distinct (a misdirected read shows up) yet the image compresses well in git.
 *   npm run make-fixtures
 */
import { mkdirSync, writeFileSync } from 'node:fs';

export function makeDiskImage(blocks: number): Buffer {
  const img = Buffer.alloc(blocks * 512);
  for (let lba = 0; lba < blocks; lba++) {
    const base = lba * 512;
    const tag = `SIMRUN LBA ${lba.toString().padStart(10, '0')}\n`;
    img.write(tag, base, 'latin1');
    for (let i = tag.length; i < 512; i++) img[base + i] = (i * 131 + lba * 17 + (lba >>> 8) * 7) & 0xff;
  }
  return img;
}

if (process.argv[1]?.endsWith('make-fixtures.ts')) {
  mkdirSync('fixtures/disks', { recursive: true });
  writeFileSync('fixtures/disks/nvme-8m.img', makeDiskImage(16384));
  process.stdout.write('wrote fixtures/disks/nvme-8m.img (16384 blocks of 512 bytes)\n');
}
