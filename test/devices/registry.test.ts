import { describe, expect, it } from 'vitest';
import { DEVICE_FACTORIES, deviceDecoders, findDeviceFactory } from '../../src/devices/registry.js';
import { DRIVERS, driverMatches } from '../../src/drivers/registry.js';
import type { PciFunctionInfo } from '../../src/kernel/pcid.js';

const fn = (ids: { vendorId: number; deviceId: number; classCode: number }): PciFunctionInfo => ({
  bus: 0, device: 4, fn: 0, bdf: '00:04.0', revision: 0, subsystemVendorId: 0, subsystemId: 0, irqLine: 0, irqPin: 1, bars: [], caps: [], ...ids,
});

describe('device registry: one factory carries everything the tools need', () => {
  it('every factory has a decoder of its own type, documented props and a guest-error catalogue', () => {
    expect(DEVICE_FACTORIES.map((f) => f.type)).toEqual(['nvme', 'iwlwifi', 'virtio-blk', 'virtio-net', 'ahci', 'intel-display']);
    for (const f of DEVICE_FACTORIES) {
      expect(f.decoder.type).toBe(f.type);
      expect(findDeviceFactory(f.type)).toBe(f);
      for (const [name, p] of Object.entries(f.props)) expect(p.doc.length, `${f.type}.${name}`).toBeGreaterThan(10);
      const codes = Object.keys(f.guestErrors);
      expect(codes.length).toBeGreaterThan(0);
      for (const c of codes) expect(c, `${f.type} guest error code`).toMatch(/^[a-z0-9]+(\.[a-z0-9-]+)+$/);
    }
    expect(findDeviceFactory('nvme2')).toBeUndefined();
  });

  it('the decoders the trace tools get are the factories\' own', () => {
    const m = deviceDecoders();
    expect([...m.keys()]).toEqual(DEVICE_FACTORIES.map((f) => f.type));
    for (const f of DEVICE_FACTORIES) expect(m.get(f.type)).toBe(f.decoder);
  });

  it('the NVMe decoder names its address-holding registers and PRP fields for diff', () => {
    const d = findDeviceFactory('nvme')!.decoder;
    expect(d.addressRegisters).toEqual(['ASQ', 'ACQ']);
    expect(d.regName(0, 0x28, 8)).toBe('ASQ');
    expect(d.dmaAddressFields?.('nvme.sqe', 64)).toEqual([24, 32]);
    expect(d.dmaAddressFields?.('nvme.prp', 32)).toEqual([0, 8, 16, 24]);
    expect(d.dmaAddressFields?.('data', 4096)).toBeUndefined();
    expect(d.timingPhases).toBeTypeOf('function');
  });
});

describe('driver registry: the match is the driver\'s own id table', () => {
  it('each device is driven by exactly the driver whose id table names it (alternatives run only when a scenario names them)', () => {
    // The TypeScript drivers are named after their device; devices without one have their compiled driver as the default.
    // null: no driver yet (intel-display: the redox-drm daemon is to come).
    const defaults: Record<string, string | null> = {
      nvme: 'nvme', iwlwifi: 'iwlwifi', ahci: 'ahcid', 'virtio-blk': 'virtio-blkd', 'virtio-net': 'virtio-netd', 'intel-display': 'redox-drm',
    };
    for (const f of DEVICE_FACTORIES) {
      const drivers = DRIVERS.filter((d) => d.explicit !== true && driverMatches(d, fn(f.pciIds))).map((d) => d.name);
      expect(f.type in defaults, f.type).toBe(true);
      const want = defaults[f.type];
      expect(drivers, f.type).toEqual(want === null ? [] : [want]);
    }
    const nvme = DEVICE_FACTORIES.find((f) => f.type === 'nvme')!;
    expect(DRIVERS.filter((d) => d.explicit === true && driverMatches(d, fn(nvme.pciIds))).map((d) => d.name).sort()).toEqual(['kpi-selftest', 'nvme-c', 'nvmed', 'redox-selftest']);
  });

  it('a function of another class or vendor matches no driver', () => {
    expect(DRIVERS.filter((d) => driverMatches(d, fn({ vendorId: 0x1234, deviceId: 0x1111, classCode: 0x020000 })))).toEqual([]);
  });
});
