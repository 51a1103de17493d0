/**
 * The machine's sanitizer registry (src/sim/sanitize.ts): DMA into memory
 * the driver freed is named as a use after free, on top of dma.unmapped.
 */
import { describe, expect, it } from 'vitest';
import { DmaPort } from '../../src/sim/dma.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { PhysMem } from '../../src/sim/memory.js';
import { Sanitizer } from '../../src/sim/sanitize.js';
import { MemoryTracer } from '../../src/sim/tracer.js';
import { MemoryScheme } from '../../src/kernel/schemes/memory.js';

function setUp(sanitize: boolean) {
  const mem = new PhysMem(8 << 20);
  const sanitizer = sanitize ? new Sanitizer(mem.ramBytes) : null;
  const scheme = new MemoryScheme(mem, sanitizer);
  const tracer = new MemoryTracer();
  const dma = new DmaPort(0, 'dev0', mem, new EventQueue(), tracer, { busMaster: true });
  dma.sanitizer = sanitizer;
  const codes = () => tracer.events.flatMap((e) => (e.kind === 'guestErr' ? [e.code] : []));
  return { mem, scheme, tracer, dma, codes };
}

const NOTE = { what: 'dma_free_coherent', proc: 'nvmed', pid: 3, timePs: 2_000_000 };

describe('sanitizer: DMA into freed memory', () => {
  it('a device write into a buffer the driver freed is dma.unmapped plus dma.freed naming the free', () => {
    const { scheme, tracer, dma, codes } = setUp(true);
    expect(scheme.sanitizing).toBe(true);
    const r = scheme.alloc(8192)!;
    expect(dma.write32(r.phys + 4096, 1, 'data')).toBe(true);
    scheme.release(r, NOTE);
    expect(dma.write32(r.phys + 4096, 1, 'data')).toBe(false);
    expect(codes()).toEqual(['dma.unmapped', 'dma.freed']);
    const msg = tracer.events.flatMap((e) => (e.kind === 'guestErr' && e.code === 'dma.freed' ? [e.message] : []))[0]!;
    expect(msg).toContain('dma_free_coherent');
    expect(msg).toContain('nvmed[3]');
    expect(msg).toContain(`0x${r.phys.toString(16)}`);
  });

  it('memory handed out again is no longer freed; never-allocated memory is only unmapped', () => {
    const { scheme, dma, codes } = setUp(true);
    const r = scheme.alloc(4096)!;
    scheme.release(r, NOTE);
    const again = scheme.alloc(4096)!;
    expect(again.phys).toBe(r.phys);
    expect(dma.write32(again.phys, 1, 'data')).toBe(true);
    expect(dma.read32(0x700000, 'data')).toBe(-1);
    expect(codes()).toEqual(['dma.unmapped']);
  });

  it('with sanitize off only dma.unmapped is recorded', () => {
    const { scheme, dma, codes } = setUp(false);
    expect(scheme.sanitizing).toBe(false);
    const r = scheme.alloc(4096)!;
    scheme.release(r, NOTE);
    expect(dma.write32(r.phys, 1, 'data')).toBe(false);
    expect(codes()).toEqual(['dma.unmapped']);
  });
});
