/** RAM regions (a compiled driver's memory) in the physical address space and the DMA path into them. */
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../src/sim/memory.js';
import { DmaPort } from '../../src/sim/dma.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { NULL_TRACER } from '../../src/sim/tracer.js';

describe('PhysMem regions', () => {
  it('places a region above RAM, resolves addresses into it and keeps per-page DMA permission', () => {
    const mem = new PhysMem(16 << 20);
    const bytes = new Uint8Array(1 << 20);
    const r = mem.addRegionBelow(0xc0000000, 1 << 20, bytes, 'drv[2]');
    expect(r.base).toBe(16 << 20);
    expect(mem.isRam(r.base + 100, 4)).toBe(true);
    expect(mem.resolve(r.base + 100, 4)).toBe(bytes);
    expect(mem.resolvedOffset).toBe(100);
    expect(mem.isDmaAllowed(r.base, 4096)).toBe(false);
    mem.markDma(r.base + 4096, 8192, true);
    expect(mem.isDmaAllowed(r.base + 4096, 8192)).toBe(true);
    expect(mem.isDmaAllowed(r.base + 4096, 8193 + 4096)).toBe(false);
    const r2 = mem.addRegionBelow(0xc0000000, 1 << 20, new Uint8Array(1 << 20), 'drv[3]');
    expect(r2.base).toBeGreaterThanOrEqual(r.base + r.size);
    expect(() => mem.addRegion(r.base, 4096, new Uint8Array(4096), 'x')).toThrow(/overlaps the region of drv\[2\]/);
    mem.removeRegion(r);
    expect(mem.isRam(r.base, 4)).toBe(false);
  });

  it('a device DMAs into the region\'s bytes and is refused outside pages marked for DMA', () => {
    const mem = new PhysMem(16 << 20);
    const bytes = new Uint8Array(1 << 20);
    const r = mem.addRegion(32 << 20, 1 << 20, bytes, 'drv[2]');
    mem.markDma(r.base, 4096, true);
    const port = new DmaPort(0, 'dev', mem, new EventQueue(), NULL_TRACER, { busMaster: true });
    expect(port.write(r.base + 8, Uint8Array.of(1, 2, 3, 4), 0, 4, 'x')).toBe(true);
    expect([...bytes.subarray(8, 12)]).toEqual([1, 2, 3, 4]);
    const back = new Uint8Array(4);
    expect(port.read(r.base + 8, back, 0, 4, 'x')).toBe(true);
    expect([...back]).toEqual([1, 2, 3, 4]);
    expect(port.write(r.base + 4096, Uint8Array.of(9), 0, 1, 'x')).toBe(false);
    expect(port.lastResult).toBe('unmapped');
  });

  it("a device's reserved memory is placed from the top: compiled drivers' regions (placed from the bottom) do not move", () => {
    const MiB = 1 << 20;
    const withDevice = new PhysMem(64 * MiB);
    const stolen = withDevice.addRegionTop(0xc0000000, 32 * MiB, new Uint8Array(32 * MiB), 'gfx0 stolen');
    expect(stolen.base).toBe(0xc0000000 - 32 * MiB);
    const second = withDevice.addRegionTop(0xc0000000, 16 * MiB, new Uint8Array(0), 'gfx1 stolen');
    expect(second.base).toBe(stolen.base - 16 * MiB);
    const drvA = withDevice.addRegionBelow(0xc0000000, MiB, new Uint8Array(MiB), 'drv[3]');
    const without = new PhysMem(64 * MiB);
    const drvB = without.addRegionBelow(0xc0000000, MiB, new Uint8Array(MiB), 'drv[3]');
    expect(drvA.base).toBe(drvB.base);
    expect(() => new PhysMem(64 * MiB).addRegionTop(96 * MiB, 48 * MiB, new Uint8Array(0), 'big')).toThrow(/no room for big/);
  });
});

describe('PhysMem: bytes in and compared in place', () => {
  it('writeFrom copies a window of an array into RAM or a region; holds compares RAM with one', () => {
    const mem = new PhysMem(16 << 20);
    const bytes = new Uint8Array(1 << 20);
    const r = mem.addRegionBelow(0xc0000000, 1 << 20, bytes, 'drv[1]');
    const src = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff);
    expect(mem.writeFrom(0x5000, src, 16, 64)).toBe(true);
    expect(Array.from(mem.ram.subarray(0x5000, 0x5040))).toEqual(Array.from(src.subarray(16, 80)));
    expect(mem.ram[0x5040]).toBe(0);
    expect(mem.writeFrom(r.base + 8, src, 0, 256)).toBe(true);
    expect(Array.from(bytes.subarray(8, 264))).toEqual(Array.from(src));
    expect(mem.writeFrom(0xf0000000, src, 0, 4)).toBe(false);
    expect(mem.holds(0x5000, src, 16, 64)).toBe(true);
    expect(mem.holds(0x5000, src, 17, 64)).toBe(false);
    expect(mem.holds(0x5001, src, 16, 64)).toBe(false);
    expect(mem.holds(r.base + 8, src, 0, 256)).toBe(true);
    expect(mem.holds(0xf0000000, src, 0, 4)).toBe(false);
    expect(mem.holds(0xf0000000, src, 0, 0)).toBe(true); // no bytes: held anywhere, as an empty read compares
  });

  it('holdsWords answers as holds does, a word at a time in word-aligned main RAM', () => {
    const mem = new PhysMem(1 << 20);
    const bytes = new Uint8Array(1 << 16);
    const r = mem.addRegionBelow(0xc0000000, 1 << 16, bytes, 'drv[1]');
    const entry = Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 5) & 0xff);
    const words = new Uint32Array(entry.buffer);
    for (const addr of [0x4000, 0x5002, r.base + 0x100, (1 << 20) - 32, 0xf0000000]) {
      if (addr !== 0xf0000000) mem.writeFrom(addr, entry, 0, addr === (1 << 20) - 32 ? 32 : 64);
      for (const len of [64, 62, 16]) {
        expect(mem.holdsWords(addr, words, entry, len)).toBe(mem.holds(addr, entry, 0, len));
      }
    }
    expect(mem.holdsWords(0x4000, words, entry, 64)).toBe(true);
    mem.ram[0x4000 + 63] = mem.ram[0x4000 + 63]! ^ 1; // the last byte of the last word
    expect(mem.holdsWords(0x4000, words, entry, 64)).toBe(false);
    expect(mem.holdsWords(0x4000, words, entry, 60)).toBe(true);
    expect(mem.holdsWords(r.base + 0x100, words, entry, 64)).toBe(true);
    expect(mem.holdsWords((1 << 20) - 32, words, entry, 64)).toBe(false); // runs past RAM
  });

  it('writeFrom marks the pages it writes as touched (zeroPages clears them)', () => {
    const mem = new PhysMem(1 << 20);
    mem.writeFrom(0x3000, Uint8Array.of(9, 9, 9, 9), 0, 4);
    mem.zeroPages(0, 1 << 20);
    expect(mem.ram[0x3000]).toBe(0);
  });
});
