/**
 * The guest-error catalogues (src/devices/{pci,nvme,iwlwifi,ahci,intel-display}/guest-errors.ts,
 * src/devices/intel-display/{gmbus,aux}.ts,
 * src/devices/virtio/{transport,blk,net}/guest-errors.ts)
 * against what the tests expect, what the models emit for hostile accesses,
 * and what the recorded golden traces contain.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PCI_GUEST_ERRORS } from '../../src/devices/pci/guest-errors.js';
import { NVME_GUEST_ERRORS } from '../../src/devices/nvme/guest-errors.js';
import { IWLWIFI_GUEST_ERRORS } from '../../src/devices/iwlwifi/guest-errors.js';
import { AHCI_GUEST_ERRORS } from '../../src/devices/ahci/guest-errors.js';
import { VIRTIO_GUEST_ERRORS } from '../../src/devices/virtio/transport/guest-errors.js';
import { VIRTIO_BLK_GUEST_ERRORS } from '../../src/devices/virtio/blk/guest-errors.js';
import { VIRTIO_NET_GUEST_ERRORS } from '../../src/devices/virtio/net/guest-errors.js';
import { DISPLAY_GUEST_ERRORS } from '../../src/devices/intel-display/guest-errors.js';
import { GMBUS_GUEST_ERRORS } from '../../src/devices/intel-display/gmbus.js';
import { AUX_GUEST_ERRORS } from '../../src/devices/intel-display/aux.js';
import { intelDisplayFactory } from '../../src/devices/intel-display/index.js';
import { nvmeFactory } from '../../src/devices/nvme/index.js';
import { iwlwifiFactory } from '../../src/devices/iwlwifi/index.js';
import { ahciFactory } from '../../src/devices/ahci/index.js';
import { virtioBlkFactory } from '../../src/devices/virtio/blk/index.js';
import { virtioNetFactory } from '../../src/devices/virtio/net/index.js';
import { CMD_GUEST_ERRORS, St, isGuestMistake, statusCode } from '../../src/devices/nvme/status.js';
import type { GuestErrorCatalogue } from '../../src/devices/device.js';
import { openTrace } from '../../src/trace/reader.js';
import { Harness as IwlHarness } from './iwlwifi/transport/harness.js';
import { Harness as NvmeHarness } from './nvme/harness.js';
import { DmaPort } from '../../src/sim/dma.js';
import { ms } from '../../src/sim/time.js';
import { fullSpec, makeFunction, makeWorld, RegBlock } from './pci/fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CATALOGUES: Record<string, GuestErrorCatalogue> = {
  pci: PCI_GUEST_ERRORS,
  nvme: NVME_GUEST_ERRORS,
  iwlwifi: IWLWIFI_GUEST_ERRORS,
  ahci: AHCI_GUEST_ERRORS,
  virtio: VIRTIO_GUEST_ERRORS,
  'virtio-blk': VIRTIO_BLK_GUEST_ERRORS,
  'virtio-net': VIRTIO_NET_GUEST_ERRORS,
  display: DISPLAY_GUEST_ERRORS,
  gmbus: GMBUS_GUEST_ERRORS,
  dpaux: AUX_GUEST_ERRORS,
};
const ALL_CODES = new Set(Object.values(CATALOGUES).flatMap((c) => Object.keys(c)));
const BY_DEVICE_TYPE: Record<string, GuestErrorCatalogue> = {
  [nvmeFactory.type]: nvmeFactory.guestErrors,
  [iwlwifiFactory.type]: iwlwifiFactory.guestErrors,
  [ahciFactory.type]: ahciFactory.guestErrors,
  [virtioBlkFactory.type]: virtioBlkFactory.guestErrors,
  [virtioNetFactory.type]: virtioNetFactory.guestErrors,
  [intelDisplayFactory.type]: intelDisplayFactory.guestErrors,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** A code-like string literal of the catalogues' families. */
const CODE_LITERAL = /'((?:nvme|iwl|fw|pci|msi|msix|dma|ahci|virtio|virtq|display|gmbus|dpaux)\.[a-z0-9.-]+)'/gi;
/** Lines that talk about guest errors or their codes. */
const ABOUT_GUEST_ERRORS = /guestErr|\.code\b|\bcode:|\bcodes\b/;
/** A tracer call recording a synthetic guest error (first argument is a time, not a code): not an expectation. */
const RECORDING_CALL = /\.guestErr\(\s*[^'"\s)]/;
/** `guestErrs('prefix')` in the device harnesses filters by code prefix. */
const PREFIX_FILTER = /guestErrs\(\s*'([^']+)'/g;

describe('guest-error catalogues', () => {
  it('every code a test expects in a guestErr is catalogued', () => {
    const self = relative(ROOT, import.meta.filename);
    const missing: string[] = [];
    let seen = 0;
    for (const file of tsFiles(join(ROOT, 'test'))) {
      const rel = relative(ROOT, file);
      if (rel === self) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (!ABOUT_GUEST_ERRORS.test(line) || RECORDING_CALL.test(line)) return;
        const prefixes = new Set([...line.matchAll(PREFIX_FILTER)].map((m) => m[1]!));
        for (const m of line.matchAll(CODE_LITERAL)) {
          const code = m[1]!;
          seen++;
          if (ALL_CODES.has(code)) continue;
          // A harness prefix filter must select at least one catalogued code.
          if (prefixes.has(code) && [...ALL_CODES].some((c) => c.startsWith(code))) continue;
          missing.push(`${rel}:${i + 1}: ${code}`);
        }
      });
    }
    expect(seen).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  it('every entry has a meaning and a spec reference', () => {
    for (const [device, cat] of Object.entries(CATALOGUES)) {
      expect(Object.keys(cat).length, device).toBeGreaterThan(0);
      for (const [code, info] of Object.entries(cat)) {
        expect(code, device).toMatch(/^[a-z]+\.[a-z0-9.-]+$/);
        expect(info.meaning.trim().length, `${device} ${code} meaning`).toBeGreaterThan(10);
        expect(info.spec.trim().length, `${device} ${code} spec`).toBeGreaterThan(3);
      }
    }
  });

  it('no code is in two catalogues, and each factory lists the PCI codes with its own', () => {
    const pci = Object.keys(PCI_GUEST_ERRORS);
    const nvme = Object.keys(NVME_GUEST_ERRORS);
    const iwl = Object.keys(IWLWIFI_GUEST_ERRORS);
    const ahci = Object.keys(AHCI_GUEST_ERRORS);
    const virtio = Object.keys(VIRTIO_GUEST_ERRORS);
    const blk = Object.keys(VIRTIO_BLK_GUEST_ERRORS);
    const net = Object.keys(VIRTIO_NET_GUEST_ERRORS);
    const display = [...Object.keys(DISPLAY_GUEST_ERRORS), ...Object.keys(GMBUS_GUEST_ERRORS), ...Object.keys(AUX_GUEST_ERRORS)];
    expect(ALL_CODES.size).toBe(pci.length + nvme.length + iwl.length + ahci.length + virtio.length + blk.length + net.length + display.length);
    expect(Object.keys(nvmeFactory.guestErrors).sort()).toEqual([...pci, ...nvme].sort());
    expect(Object.keys(iwlwifiFactory.guestErrors).sort()).toEqual([...pci, ...iwl].sort());
    expect(Object.keys(ahciFactory.guestErrors).sort()).toEqual([...pci, ...ahci].sort());
    expect(Object.keys(virtioBlkFactory.guestErrors).sort()).toEqual([...pci, ...virtio, ...blk].sort());
    expect(Object.keys(virtioNetFactory.guestErrors).sort()).toEqual([...pci, ...virtio, ...net].sort());
    expect(Object.keys(intelDisplayFactory.guestErrors).sort()).toEqual([...pci, ...display].sort());
  });

  it('every NVMe host-mistake status has its "nvme.cmd.<status>" code, catalogued', () => {
    for (const key of Object.keys(St) as Array<keyof typeof St>) {
      const status = St[key];
      const code = (CMD_GUEST_ERRORS as Partial<Record<keyof typeof St, string>>)[key];
      if (!isGuestMistake(status)) {
        expect(code, key).toBeUndefined();
        continue;
      }
      expect(code, key).toBe(`nvme.cmd.${statusCode(status)}`);
      expect(NVME_GUEST_ERRORS, key).toHaveProperty([code!]);
    }
  });
});

describe('hostile accesses record catalogued codes', () => {
  it('iwlwifi: reads and writes of BAR0 offsets with no register', () => {
    const h = new IwlHarness();
    expect(h.r32(0x1234)).toBe(0);
    h.w32(0x1ffc, 0xdeadbeef);
    expect(h.r32(0x1ffc)).toBe(0xdeadbeef); // plain storage, as before
    h.bar.write(0x006, 1, 0x55); // byte 2 of the INT_COALESCING dword
    expect(h.bar.read(0x007, 1)).toBe(0);
    h.bar.write(0x0fe, 2, 0x1234); // narrow and unknown: both recorded
    const codes = h.guestErrs().map((e) => e.code);
    expect(codes.filter((c) => c === 'iwl.reg.unknown')).toHaveLength(6);
    expect(codes).toContain('iwl.mmio.width');
    for (const c of codes) expect(IWLWIFI_GUEST_ERRORS).toHaveProperty([c]);
    // Registers of the map are not reported.
    const before = h.guestErrs().length;
    h.r32(0x1e28); // FH_TCSR_CHNL_TX_BUF_STS_REG(9)
    h.r32(0x1b4c); // FH_MEM_CBBC_QUEUE(31)
    h.r32(0x0a8); // CSR_MAC_SHADOW_REG_CTRL
    expect(h.guestErrs()).toHaveLength(before);
  });

  it('nvme: writes to reserved registers and unused BAR0 space', () => {
    const h = new NvmeHarness();
    h.w32(0x40, 1); // reserved, between the registers
    h.w32(0x3004, 1); // above the doorbells
    h.bar.write(0x14, 2, 0x4601); // CC, not a dword
    h.w32(0x00, 0); // CAP is read-only
    const codes = h.guestErrs().map((e) => e.code);
    expect(codes).toEqual(['nvme.reg.reserved', 'nvme.reg.reserved', 'nvme.mmio.width', 'nvme.reg.read-only']);
    for (const c of codes) expect(NVME_GUEST_ERRORS).toHaveProperty([c]);
  });

  it('nvme: I/O to an inactive NSID and to one above NN', () => {
    const h = new NvmeHarness({ props: { namespaces: 4 } });
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096);
    h.exec(1, { ...h.rw(false, 0, 1, buf), nsid: 3 });
    h.exec(1, { ...h.rw(false, 0, 1, buf), nsid: 5 });
    const codes = h.guestErrs().map((e) => e.code);
    expect(codes).toEqual(['nvme.cmd.invalid-field', 'nvme.cmd.invalid-namespace']);
    for (const c of codes) expect(NVME_GUEST_ERRORS).toHaveProperty([c]);
  });

  it('pci: a function in D3hot (BAR access, DMA, interrupt), an early access, an unclaimed power state', () => {
    const w = makeWorld();
    const fn = makeFunction(w, fullSpec({ bar0: new RegBlock(0x4000) }), { dev: 4 });
    fn.assignBar(0, 0xfe000000);
    fn.configWrite(0x04, 2, 0x6);
    fn.configWrite(0x44, 2, 3); // D3hot
    fn.configRead(0x44, 2); // inside the 10 ms
    w.queue.runUntil(ms(10));
    w.mem.findWindow(0xfe000000, 4)!.handler.read(0, 4);
    new DmaPort(4, 'dut', w.mem, w.queue, w.tracer, fn).read(0, new Uint8Array(4), 0, 4, 'data');
    fn.configWrite(0x70 + 2, 2, 0x8000); // MSI-X enable
    fn.sendMessage(0);
    fn.configWrite(0x44, 2, 1); // D1 is not claimed
    const codes = w.tracer.events.flatMap((e) => (e.kind === 'guestErr' ? [e.code] : []));
    expect(codes).toEqual(['pci.pm-recovery', 'pci.pm-bar-access', 'dma.power-state', 'pci.pm-interrupt', 'pci.pm-bad-state']);
    for (const c of codes) expect(PCI_GUEST_ERRORS).toHaveProperty([c]);
  });
});

describe('golden traces', () => {
  const traces = readdirSync(join(ROOT, 'traces')).filter((f) => f.endsWith('.simtrace')).sort();

  it.each(traces)('%s holds only guestErr codes its device catalogues', (name) => {
    const r = openTrace(join(ROOT, 'traces', name));
    // The scenario's machine section: devices in trace-index order.
    const devices = (r.header.machine as { devices: Array<{ type: string }> }).devices;
    const bad: string[] = [];
    let events = 0;
    for (const e of r.events()) {
      events++;
      if (e.kind !== 'guestErr') continue;
      const type = devices[e.dev]?.type;
      const cat = type === undefined ? undefined : BY_DEVICE_TYPE[type];
      if (cat === undefined || !(e.code in cat)) bad.push(`#${e.seq} dev ${e.dev} (${type ?? 'no device'}): ${e.code}`);
    }
    expect(events).toBeGreaterThan(200); // read through (the shortest golden, a fault that stops at probe, has 275)
    expect(r.damage).toEqual([]);
    expect(bad).toEqual([]);
  });
});
