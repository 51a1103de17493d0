import { describe, expect, it } from 'vitest';
import { ms } from '../../../src/sim/time.js';
import { displayDecoder } from '../../../src/devices/intel-display/decode.js';
import { wrpllDividers, wrpllFreqKHz } from '../../../src/devices/intel-display/clocks.js';
import {
  CFGCR1_148500, CFGCR2_148500, DBUF_CTL, DDI_BUF_CTL, DPLL_STATUS, FRMCOUNT, FUSE_STATUS, GGTT, Harness, LCPLL2_CTL, MASTER, MODE_1080P,
  PIPEDSL, PIPE_IER, PIPE_IIR, PIPE_IMR, PIPE_ISR, PWR_WELL_CTL2, PW1, PW2, SDEIER, SDEIIR, SDEIMR, SDEISR, PCH_PORT_HOTPLUG, SFUSE_STRAP,
  TRANSCONF, monitor,
} from './harness.js';

describe('intel-display: PCI function', () => {
  it('is a VGA-class function with BAR0 64-bit 16 MiB, BAR2 prefetchable aperture, BAR4 I/O, MSI and INTA#, GGC/BDSM/ASLS', () => {
    const h = new Harness();
    expect(h.spec.vendorId).toBe(0x8086);
    expect(h.spec.deviceId).toBe(0x5916);
    expect(h.spec.classCode).toBe(0x030000);
    expect(h.spec.bars.map((b) => [b.index, b.kind, b.size, b.prefetchable === true])).toEqual([
      [0, 'mem64', 16 << 20, false], [2, 'mem64', 256 << 20, true], [4, 'io', 64, false]]);
    expect(h.spec.capabilities.msi?.vectors).toBe(1);
    expect(h.spec.interruptPin).toBe(1);
    const regs = h.spec.configRegs!;
    const ggc = regs.find((r) => r.offset === 0x50)!;
    expect((ggc.value >> 6) & 3).toBe(3); // 8 MiB of PTEs
    expect((ggc.value >> 8) & 0xff).toBe(1); // 32 MiB stolen
    const bdsm = regs.find((r) => r.offset === 0x5c)!;
    expect((bdsm.value & ~0xfff) >>> 0).toBe(h.dev.stolenBase);
    expect(h.mem.isDmaAllowed(h.dev.stolenBase, 32 << 20)).toBe(true);
    expect(regs.find((r) => r.offset === 0xfc)!.writable).toBe(0xffffffff);
  });
});

describe('intel-display: reset values and plain storage', () => {
  it('fuses, wells, PLLs, pipes, interrupts start off; unmodelled registers are storage', () => {
    const h = new Harness();
    expect(h.r(FUSE_STATUS)).toBe((0x80000000 | (1 << 27)) >>> 0);
    expect(h.r(PWR_WELL_CTL2)).toBe(0);
    expect(h.r(DPLL_STATUS)).toBe(0);
    expect(h.r(TRANSCONF(0))).toBe(0);
    expect(h.r(PIPEDSL(0))).toBe(0);
    expect(h.r(PIPE_IMR(0))).toBe(0xffffffff);
    expect(h.r(DDI_BUF_CTL(1))).toBe(0x80); // idle
    expect(h.r(0x4f000)).toBe(0);
    h.w(0x4f000, 0x12345678);
    expect(h.r(0x4f000)).toBe(0x12345678);
    expect(h.codes()).toEqual([]);
  });

  it('SFUSE_STRAP names the ports the monitors use; SDEISR shows connected ports', () => {
    const h = new Harness({ cfg: { monitors: [monitor('B'), monitor('D', { plugAtUs: 1000 })] } });
    expect(h.r(SFUSE_STRAP) & 7).toBe(0b101); // B (bit 2) and D (bit 0)
    expect(h.r(SDEISR) & (7 << 21)).toBe(1 << 21);
    h.runMs(2);
    expect(h.r(SDEISR) & (7 << 21)).toBe((1 << 21) | (1 << 23));
  });

  it('read-only registers ignore writes with a guest error; narrow accesses are reported', () => {
    const h = new Harness();
    h.w(DPLL_STATUS, 0xffffffff);
    h.w(FRMCOUNT(0), 5);
    expect(h.r(DPLL_STATUS)).toBe(0);
    expect(h.r(FRMCOUNT(0))).toBe(0);
    h.bar0.write(0x4f001, 1, 0xab);
    expect(h.r(0x4f000)).toBe(0xab00);
    expect(h.bar0.read(0x4f001, 1)).toBe(0xab);
    expect(h.codes()).toEqual(['display.reg.read-only', 'display.reg.read-only', 'display.mmio.width', 'display.mmio.width']);
  });
});

describe('intel-display: state bits follow requests', () => {
  it('power wells, fuse PG bits and DBUF follow their requests after a delay', () => {
    const h = new Harness();
    h.w(PWR_WELL_CTL2, (1 << (2 * PW1 + 1)) | (1 << (2 * PW2 + 1)));
    expect(h.r(PWR_WELL_CTL2)).toBe(((1 << 29) | (1 << 31)) >>> 0);
    h.w(DBUF_CTL, 0x80000000);
    expect(h.r(DBUF_CTL)).toBe(0x80000000);
    h.runUs(50);
    expect(h.r(PWR_WELL_CTL2)).toBe(((3 << 28) | (3 << 30)) >>> 0);
    expect(h.r(FUSE_STATUS) & (7 << 25)).toBe(7 << 25);
    expect(h.r(DBUF_CTL)).toBe(0xc0000000);
    h.w(PWR_WELL_CTL2, 0);
    expect(h.r(PWR_WELL_CTL2)).toBe(0);
    expect(h.r(FUSE_STATUS) & (3 << 25)).toBe(0);
  });

  it('a PLL locks after its delay; disabling clears the lock; pllNeverLocks keeps it clear', () => {
    const h = new Harness();
    h.pllHdmi148(1);
    expect(h.r(DPLL_STATUS)).toBe(0);
    h.runUs(100);
    expect(h.r(DPLL_STATUS)).toBe(1 << 8);
    h.w(LCPLL2_CTL, 0);
    expect(h.r(DPLL_STATUS)).toBe(0);
    const f = new Harness({ cfg: { pllNeverLocks: 1 } });
    f.pllHdmi148(1);
    f.runMs(10);
    expect(f.r(DPLL_STATUS)).toBe(0);
    expect(f.dev.stall(f.now).join('\n')).toMatch(/DPLL 1 enabled .* not locked \(fault pllNeverLocks/);
  });

  it('TRANSCONF state bit 30 follows enable; clears at the next vblank after disable; DDI buffer idle = not enabled', () => {
    const h = new Harness();
    h.modeset(0, 1);
    expect(h.r(TRANSCONF(0)) >>> 30).toBe(3);
    expect(h.r(DDI_BUF_CTL(1)) & 0x80).toBe(0);
    h.w(0x70180, 0); // plane off (was never on)
    h.w(TRANSCONF(0), 0);
    expect(h.r(TRANSCONF(0)) >>> 30).toBe(1); // still running until the frame ends
    h.runMs(17);
    expect(h.r(TRANSCONF(0))).toBe(0);
    h.w(0x60400, 0);
    h.w(DDI_BUF_CTL(1), 0);
    h.runUs(20);
    expect(h.r(DDI_BUF_CTL(1)) & 0x80).toBe(0x80);
    expect(h.codes()).toEqual([]);
  });
});

describe('intel-display: clocks and raster timing', () => {
  it('the WRPLL formula gives 148.5 MHz for the CEA 1080p dividers, and the handoff dividers round-trip', () => {
    expect(wrpllFreqKHz(CFGCR1_148500, CFGCR2_148500)).toBe(148500);
    for (const clk of [148500, 74250, 25175, 65000, 108000]) {
      const d = wrpllDividers(clk)!;
      expect(Math.abs(wrpllFreqKHz(d.cfgcr1, d.cfgcr2) - clk)).toBeLessThanOrEqual(1);
    }
  });

  it('1920x1080 at 148.5 MHz gives 60 Hz vblanks; PIPEDSL and PIPE_FRMCOUNT follow simulated time', () => {
    const h = new Harness();
    h.modeset(0, 1, MODE_1080P);
    const p = h.dev.pipes[0]!;
    expect(p.clockKHz).toBe(148500);
    expect(p.framePs).toBe(Math.round(2200 * 1125 * (1e9 / 148500)));
    expect(Math.abs(p.framePs - 16_666_667_000)).toBeLessThan(1000);
    const t0 = p.t0;
    // Line 540 is at t0 + 540 lines.
    h.queue.runUntil(t0 + Math.ceil(540.5 * p.linePs));
    expect(h.r(PIPEDSL(0))).toBe(540);
    expect(h.r(FRMCOUNT(0))).toBe(0);
    h.queue.runUntil(t0 + Math.ceil(1080 * p.linePs) + 1);
    expect(h.r(FRMCOUNT(0))).toBe(1);
    expect(h.r(PIPE_ISR(0)) & 1).toBe(1); // in vblank
    h.queue.runUntil(t0 + 10 * p.framePs + Math.ceil(100 * p.linePs));
    expect(h.r(FRMCOUNT(0))).toBe(10);
    expect(h.r(PIPEDSL(0))).toBe(100);
    expect(h.r(PIPE_ISR(0)) & 1).toBe(0);
    const before = h.dev.counters.vblanks;
    h.run(ms(1000));
    expect(h.dev.counters.vblanks - before).toBe(60);
  });
});

describe('intel-display: interrupts', () => {
  it('IIR latches unmasked events, is W1C and queues one more; IER and master gate the message; re-raise on master enable', () => {
    const h = new Harness();
    h.modeset(0, 1);
    h.w(PIPE_IIR(0), 0xffffffff);
    h.nextVblank();
    expect(h.r(PIPE_IIR(0))).toBe(0); // masked
    h.w(PIPE_IMR(0), ~1);
    h.w(PIPE_IER(0), 1);
    h.nextVblank();
    expect(h.r(PIPE_IIR(0))).toBe(1);
    expect(h.r(MASTER)).toBe(1 << 16);
    expect(h.irq.messages).toEqual([]); // master disabled
    h.w(MASTER, 0x80000000);
    expect(h.irq.messages).toEqual([0]);
    // Handler: master off, another vblank arrives while IIR is set, clear twice.
    h.w(MASTER, 0);
    h.nextVblank();
    h.w(PIPE_IIR(0), 1);
    expect(h.r(PIPE_IIR(0))).toBe(1); // the queued one
    h.w(PIPE_IIR(0), 1);
    expect(h.r(PIPE_IIR(0))).toBe(0);
    h.nextVblank();
    h.w(MASTER, 0x80000000); // re-enable with IIR pending: raised again
    expect(h.irq.messages).toEqual([0, 0]);
    // IER off: IIR still latches, master status does not show it.
    h.w(PIPE_IIR(0), 1);
    h.w(PIPE_IER(0), 0);
    h.nextVblank();
    expect(h.r(PIPE_IIR(0))).toBe(1);
    expect(h.r(MASTER)).toBe(0x80000000);
  });

  it('INTx follows the level', () => {
    const h = new Harness({ mode: 'intx' });
    h.modeset(0, 1);
    h.w(PIPE_IMR(0), ~1);
    h.w(PIPE_IER(0), 1);
    h.w(MASTER, 0x80000000);
    h.nextVblank();
    expect(h.irq.level).toBe(true);
    h.w(PIPE_IIR(0), 1);
    h.w(PIPE_IIR(0), 1);
    expect(h.irq.level).toBe(false);
  });

  it('hot-plug: PCH_PORT_HOTPLUG long-detect status (W1C) and SDEIIR bit 21 for port B', () => {
    const h = new Harness({ cfg: { monitors: [monitor('B', { plugAtUs: 5000, unplugAtUs: 9000 })] } });
    h.w(PCH_PORT_HOTPLUG, 1 << 4);
    h.w(SDEIMR, ~(1 << 21));
    h.w(SDEIER, 1 << 21);
    h.w(MASTER, 0x80000000);
    expect(h.r(SDEISR) & (1 << 21)).toBe(0);
    h.runMs(6);
    expect(h.r(SDEISR) & (1 << 21)).toBe(1 << 21);
    expect(h.r(SDEIIR)).toBe(1 << 21);
    expect(h.r(PCH_PORT_HOTPLUG)).toBe((1 << 4) | (1 << 1));
    expect(h.r(MASTER) & (1 << 23)).toBe(1 << 23);
    expect(h.irq.messages.length).toBe(1);
    h.w(PCH_PORT_HOTPLUG, (1 << 4) | (1 << 1));
    expect(h.r(PCH_PORT_HOTPLUG)).toBe(1 << 4);
    h.w(SDEIIR, 1 << 21);
    h.runMs(4);
    expect(h.r(SDEISR) & (1 << 21)).toBe(0);
    expect(h.r(SDEIIR)).toBe(1 << 21);
    expect(h.dev.counters.hotplugs).toBe(2);
  });
});

describe('intel-display: GGTT and aperture', () => {
  it('PTEs are written whole or as halves; the aperture reads and writes RAM through them; unmapped reads all-ones', () => {
    const h = new Harness();
    const buf = h.alloc(8192);
    h.w(GGTT + 8 * 3, buf | 1);
    h.w(GGTT + 8 * 3 + 4, 0);
    h.bar0.write(GGTT + 8 * 4, 2, (buf + 4096) & 0xffff | 1);
    h.bar0.write(GGTT + 8 * 4 + 2, 2, (buf + 4096) >>> 16);
    expect(h.r(GGTT + 8 * 4)).toBe((buf + 4096) | 1);
    expect(h.dev.translate(3 * 4096 + 16)).toBe(buf + 16);
    h.mem.ramView.setUint32(buf + 16, 0xcafef00d, true);
    expect(h.bar2.read(3 * 4096 + 16, 4)).toBe(0xcafef00d);
    h.bar2.write(4 * 4096 + 8, 4, 0x11223344);
    expect(h.mem.ramView.getUint32(buf + 4096 + 8, true)).toBe(0x11223344);
    expect(h.bar2.read(4 * 4096 + 9, 2)).toBe(0x2233);
    expect(h.tracer.events.filter((e) => e.kind === 'dma')).toEqual([]);
    expect(h.bar2.read(9 * 4096, 4)).toBe(0xffffffff);
    h.bar2.write(9 * 4096, 4, 1);
    expect(h.codes()).toEqual(['display.aperture.unmapped', 'display.aperture.unmapped']);
    h.w(GGTT + 8 * 10, 0x7ff00000 | 1); // beyond 64 MiB of RAM
    expect(h.codes()).toContain('display.ggtt.outside-ram');
  });

  it('BAR4 index/data reaches BAR0 registers', () => {
    const h = new Harness();
    h.bar4.write(0, 4, 0x4f010);
    h.bar4.write(4, 4, 0xabcd);
    expect(h.r(0x4f010)).toBe(0xabcd);
    h.w(0x4f014, 77);
    h.bar4.write(0, 4, 0x4f014);
    expect(h.bar4.read(4, 4)).toBe(77);
    h.bar4.write(0, 4, 0x4f015);
    expect(h.bar4.read(4, 4)).toBe(0);
    expect(h.codes()).toEqual(['display.io.index']);
  });
});

describe('intel-display: decoder', () => {
  it('names registers, GGTT entries and address registers', () => {
    expect(displayDecoder.regName(0, 0x7019c, 4)).toBe('PLANE_SURF_1_A');
    expect(displayDecoder.regName(0, 0x71008, 4)).toBe('TRANSCONF_B');
    expect(displayDecoder.regName(0, 0x44408, 4)).toBe('GEN8_DE_PIPE_IIR_A');
    expect(displayDecoder.regName(0, GGTT + 8 * 5, 4)).toBe('GGTT_PTE');
    expect(displayDecoder.regName(0, GGTT + 8 * 5 + 4, 4)).toBe('GGTT_PTE.hi');
    expect(displayDecoder.regFields!(0, GGTT + 8 * 5, 0x1234001, true)).toMatch(/entry 5 .* page=0x1234000 P/);
    expect(displayDecoder.regFields!(0, 0x70180, 0x84000000, true)).toBe('EN=1 FORMAT=4 TILING=0 ASYNC=0 ROT=0');
    expect(displayDecoder.regFields!(0, 0x60400, 0x98000000, true)).toMatch(/^EN=1 DDI=B MODE=HDMI/);
    expect(displayDecoder.addressRegisters).toContain('PLANE_SURF_1_A');
    expect(displayDecoder.addressRegisters).toContain('GGTT_PTE');
    expect(displayDecoder.isVolatileRegister!('PIPEDSL_A')).toBe(true);
    expect(displayDecoder.isVolatileRegister!('TRANSCONF_A')).toBe(false);
  });
});
