import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PciHostBridge } from '../../../src/devices/pci/host-bridge.js';
import { PciFunction } from '../../../src/devices/pci/function.js';
import { fullSpec, makeWorld, plainSpec, RegBlock } from './fixture.js';

/** Read-only fields of the full-spec function: [offset, size, mask of RO bits]. */
const RO_FIELDS: Array<[number, number, number]> = [
  [0x00, 4, 0xffffffff], // vendor, device
  [0x04, 2, 0xfab8], // Command reserved bits read 0
  [0x06, 2, 0x06f7], // Status: everything but INT (dynamic) and the W1C bits
  [0x08, 4, 0xffffffff], // revision, class
  [0x0d, 1, 0xff], // latency timer (PCIe: hardwired 0)
  [0x0e, 2, 0xffff], // header type, BIST
  [0x10, 1, 0x0f], // BAR0 type bits
  [0x18, 1, 0x03], // BAR2 (I/O) type bits
  [0x1c, 4, 0xffffffff], // unimplemented BAR3
  [0x20, 4, 0xffffffff], // BAR4
  [0x24, 4, 0xffffffff], // BAR5
  [0x28, 4, 0xffffffff], // CardBus CIS
  [0x2c, 4, 0xffffffff], // subsystem IDs
  [0x30, 4, 0xffffffff], // expansion ROM
  [0x34, 4, 0xffffffff], // cap pointer + reserved
  [0x38, 4, 0xffffffff], // reserved
  [0x3d, 3, 0xffffff], // pin, min_gnt, max_lat
  [0x40, 4, 0xffffffff], // PM header, PMC
  [0x44, 4, 0xffff7ffc], // PMCSR RO bits, BSE, data (PME_Status W1C stays 0)
  [0x50, 4, 0xff8effff], // MSI header; control MMC, 64, PVM, reserved
  [0x54, 1, 0x03], // MSI address bits 1:0
  [0x5c, 4, 0xffff0000], // reserved above data
  [0x60, 4, 0xffffff00], // mask bits beyond 8 vectors
  [0x68, 4, 0xffffffff], [0x6c, 4, 0xffffffff], // gap after MSI
  [0x70, 4, 0x3fffffff], // MSI-X header, table size, reserved control bits
  [0x74, 8, 0], // (placeholder, replaced below)
  [0x80, 4, 0xffffffff], // PCIe header and capabilities register
  [0x84, 4, 0xffffffff], // Device Capabilities
  [0x88, 2, 0x8600], // Device Control: phantom, aux power, FLR (reads 0)
  [0x8a, 2, 0xfff0], // Device Status RO bits
  [0x8c, 4, 0xffffffff], // Link Capabilities
  [0x90, 4, 0xffffff3c], // Link Control RO bits + Link Status
  [0x94, 4, 0xffffffff], [0x98, 4, 0xffffffff], [0x9c, 4, 0xffffffff], [0xa0, 4, 0xffffffff], // slot/root
  [0xa4, 4, 0xffffffff], // Device Capabilities 2
  [0xa8, 4, 0xffffffef], // Device Control 2 RO bits + Device Status 2
  [0xac, 4, 0xffffffff], // Link Capabilities 2
  [0xb0, 4, 0xffffffd0], // Link Control 2 RO bits + Link Status 2
  [0xb4, 4, 0xffffffff], [0xb8, 4, 0xffffffff], // slot 2
  [0xbc, 4, 0xffffffff], // unused
  [0x100, 4, 0xffffffff], // extended capability header
  [0xffc, 4, 0xffffffff],
];
RO_FIELDS.splice(RO_FIELDS.findIndex((f) => f[0] === 0x74), 1, [0x74, 4, 0xffffffff], [0x78, 4, 0xffffffff], [0x7c, 4, 0xffffffff]);

function roSnapshot(fn: PciFunction): number[] {
  return RO_FIELDS.map(([off, size, mask]) => {
    if (size === 3) return fn.configRead(off, 1) | (fn.configRead(off + 1, 2) << 8) & mask;
    return (fn.configRead(off, size) & mask) >>> 0;
  });
}

type Op =
  | { op: 'cfg'; offset: number; size: 1 | 2 | 4; value: number }
  | { op: 'mmio'; offset: number; size: 1 | 2 | 4; value: number }
  | { op: 'send'; vector: number }
  | { op: 'intx'; level: boolean };

const sizeArb = fc.constantFrom<1 | 2 | 4>(1, 2, 4);
const valueArb = fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('cfg' as const), offset: fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0x1010 })), size: sizeArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mmio' as const), offset: fc.integer({ min: 0x1ff0, max: 0x3010 }), size: sizeArb, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('send' as const), vector: fc.integer({ min: -2, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('intx' as const), level: fc.boolean() }) },
);

describe('config space fuzz', () => {
  it('random accesses never throw, never change read-only fields, and keep INTx and decode consistent', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const w = makeWorld();
      const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
      let request = false;
      const fn = new PciFunction({
        bdf: { bus: 0, device: 3, fn: 0 }, dev: 0, name: 'dut',
        spec: fullSpec({ bar0: new RegBlock(0x4000), bar2: new RegBlock(32) }),
        mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer,
        onFlr: () => { request = false; },
      });
      // A neighbour with a fixed window the fuzzed BARs may collide with.
      const other = new PciFunction({
        bdf: { bus: 0, device: 4, fn: 0 }, dev: 1, name: 'other',
        spec: plainSpec({ bars: [{ index: 0, kind: 'mem32', size: 0x100000, handler: new RegBlock(16) }] }),
        mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer,
      });
      bridge.add(fn);
      bridge.add(other);
      bridge.assignResources({ mmioBase: 0xc0000000, mmioLimit: 0xcfffffff, ioBase: 0x1000, ioLimit: 0xffff });
      const ro = roSnapshot(fn);
      for (const o of ops) {
        switch (o.op) {
          case 'cfg':
            bridge.configWrite(fn.bdf, o.offset, o.size, o.value);
            break;
          case 'mmio': {
            const base = fn.barBase(0);
            if (base >= 0) w.mem.findWindow(base + o.offset, o.size)?.handler.write(o.offset, o.size, o.value);
            break;
          }
          case 'send':
            fn.sendMessage(o.vector);
            break;
          case 'intx':
            fn.setIntx(o.level);
            request = o.level;
            break;
        }
        expect(roSnapshot(fn)).toEqual(ro);
        const cmd = fn.configRead(0x04, 2);
        // PCI PM 1.2 5.3: outside D0 the function signals no INTx.
        const driven = request && (cmd & 0x400) === 0 && fn.mode === 'intx' && fn.powerState === 0;
        expect(fn.intxAsserted).toBe(driven);
        expect(w.irq.isAsserted(fn.intxGsi)).toBe(driven);
        expect((fn.configRead(0x06, 2) & 0x8) !== 0).toBe(request);
        for (const s of fn.barStates()) {
          if (s.mappedBase < 0) continue;
          const enabled = s.kind === 'io' ? fn.ioEnabled : fn.memoryEnabled;
          expect(enabled).toBe(true);
          expect(s.mappedBase).toBe(s.address);
          if (s.kind === 'io') expect(w.mem.findPorts(s.mappedBase, 1)?.dev).toBe(0);
          else expect(w.mem.findWindow(s.mappedBase)?.dev).toBe(0);
        }
      }
      // The neighbour was never disturbed.
      expect(w.mem.findWindow(other.barBase(0))?.dev).toBe(1);
    }), { numRuns: 300, seed: 0x5eed });
  });

  it('the host bridge and absent functions survive the same treatment', () => {
    fc.assert(fc.property(fc.array(fc.record({ key: fc.integer({ min: 0, max: 0xffff }), offset: fc.integer({ min: 0, max: 0xfff }), size: sizeArb, value: valueArb }), { maxLength: 100 }), (ops) => {
      const w = makeWorld();
      const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
      for (const o of ops) {
        bridge.ecam.write(((o.key << 12) | o.offset) >>> 0, o.size, o.value);
        const v = bridge.ecam.read(((o.key << 12) | o.offset) >>> 0, o.size);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(2 ** (8 * o.size));
      }
      expect(bridge.configRead({ bus: 0, device: 0, fn: 0 }, 0, 4)).toBe(0x29c08086);
      expect(bridge.configRead({ bus: 0, device: 0, fn: 0 }, 8, 4)).toBe(0x06000000);
    }), { numRuns: 200, seed: 0xb1d9e });
  });
});
