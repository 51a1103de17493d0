/**
 * Intel Gen9.5 (Kaby Lake) integrated GPU, display side ("intel-display").
 *
 * PCI 00:02.0 class 03:00:00, 8086:5916 by default. BAR0 (64-bit, 16 MiB):
 * registers in the low 2 MiB, GGTT entries at +8 MiB. BAR2 (64-bit
 * prefetchable): the aperture, CPU accesses translated through the GGTT to
 * RAM. BAR4 (I/O, 64 bytes): MMIO_INDEX / MMIO_DATA. Config GGC 0x50, BDSM
 * 0x5C (stolen memory reserved outside main RAM), ASLS 0xFC. MSI (one
 * message) and INTA#. Monitors come from a fixture file (`displays`); GMBUS
 * reads their EDIDs, DP AUX talks to DP sinks. Frames scanned out at each vblank go to the trace as
 * frame records (XRGB8888) and to the machine's scanout log; no DMA records.
 */
import { DeviceConfigError, type DeviceFactory } from '../device.js';
import type { PropTable } from '../../sim/props.js';
import { PCI_GUEST_ERRORS } from '../pci/guest-errors.js';
import { IntelDisplay, portIndex } from './display.js';
import { displayDecoder } from './decode.js';
import { DISPLAY_GUEST_ERRORS } from './guest-errors.js';
import { GMBUS_GUEST_ERRORS, Gmbus, monitorGmbusBus } from './gmbus.js';
import { AUX_GUEST_ERRORS, DpAux } from './aux.js';
import { loadMonitors, type MonitorSpec } from './monitors.js';

export { IntelDisplay } from './display.js';
export { displayDecoder } from './decode.js';

/** Kaby Lake GT2 (HD Graphics 620) by default; the other Kaby Lake and Skylake GT2 ids the prop accepts. */
export const INTEL_DISPLAY_DEVICE_IDS = [0x5912, 0x5916, 0x591b, 0x591e, 0x5926, 0x1912, 0x1916] as const;

export const intelDisplayProps = {
  displays: {
    type: 'string', default: '',
    doc: 'Monitors fixture file (fixtures/displays/*.json format), relative to the machine file directory; empty: no monitor is connected',
  },
  deviceId: {
    type: 'number', default: 0x5916, integer: true, min: 0, max: 0xffff,
    doc: 'PCI device id: 0x5912, 0x5916 (default), 0x591B, 0x591E, 0x5926 (Kaby Lake), 0x1912, 0x1916 (Skylake)',
  },
  apertureMiB: {
    type: 'number', default: 256, integer: true, min: 64, max: 4096,
    doc: 'Size of the BAR2 aperture in MiB, a power of two (64..4096); it maps the first GGTT addresses',
  },
  stolenMiB: {
    type: 'number', default: 32, integer: true, min: 0, max: 512,
    doc: 'Graphics stolen memory in MiB, a multiple of 32 (GGC.GMS); reserved outside main RAM, its base in BDSM',
  },
  firmwareHandoff: {
    type: 'boolean', default: false,
    doc: 'Start as firmware leaves the GPU: the first connected monitor\'s preferred mode on pipe A (power wells, DPLL 1 locked, timings, DDI, TRANSCONF on) and plane 1 scanning a boot pattern in stolen memory mapped at GGTT address 0',
  },
  pllNeverLocks: {
    type: 'number', default: -1, integer: true, min: -1, max: 3,
    doc: 'Fault: DPLL id (0..3) whose lock bit never sets once enabled; -1 = off',
  },
} as const satisfies PropTable;

export const intelDisplayFactory: DeviceFactory<typeof intelDisplayProps> = {
  type: 'intel-display',
  description: 'Intel Kaby Lake integrated GPU, display engine: GGTT, power wells, DPLLs, 3 pipes with universal planes, GMBUS EDID, hot-plug, scanout to trace frames',
  props: intelDisplayProps,
  pciIds: { vendorId: 0x8086, deviceId: 0x5916, classCode: 0x030000 },
  decoder: displayDecoder,
  guestErrors: { ...PCI_GUEST_ERRORS, ...DISPLAY_GUEST_ERRORS, ...GMBUS_GUEST_ERRORS, ...AUX_GUEST_ERRORS },
  create(ctx, props) {
    if (!(INTEL_DISPLAY_DEVICE_IDS as readonly number[]).includes(props.deviceId)) {
      throw new DeviceConfigError('deviceId', `0x${props.deviceId.toString(16)} is not a Skylake/Kaby Lake GT2 id (${INTEL_DISPLAY_DEVICE_IDS.map((d) => `0x${d.toString(16)}`).join(', ')})`);
    }
    if ((props.apertureMiB & (props.apertureMiB - 1)) !== 0) throw new DeviceConfigError('apertureMiB', `${props.apertureMiB} is not a power of two`);
    if (props.stolenMiB % 32 !== 0) throw new DeviceConfigError('stolenMiB', `${props.stolenMiB} is not a multiple of 32`);
    if (props.firmwareHandoff && props.stolenMiB === 0) throw new DeviceConfigError('stolenMiB', 'firmwareHandoff needs stolen memory for its framebuffer');
    const monitors: MonitorSpec[] = props.displays === '' ? [] : loadMonitors(ctx.baseDir, props.displays);
    let model: IntelDisplay | undefined;
    const monitorAt = (port: 'B' | 'C' | 'D'): MonitorSpec | null => {
      const i = model?.connected[portIndex(port)] ?? -1;
      return i >= 0 ? monitors[i] ?? null : null;
    };
    model = new IntelDisplay(ctx, {
      deviceId: props.deviceId,
      apertureBytes: props.apertureMiB * 2 ** 20,
      stolenBytes: props.stolenMiB * 2 ** 20,
      pllNeverLocks: props.pllNeverLocks,
      firmwareHandoff: props.firmwareHandoff,
      monitors,
      makeGmbus: (hooks) => new Gmbus(ctx.queue, `${ctx.id}.gmbus`, monitorGmbusBus(monitorAt), hooks),
      makeAux: (port, hooks) => new DpAux(ctx.queue, ctx.id, port, () => monitorAt(port === 1 ? 'B' : port === 2 ? 'C' : 'D'), hooks),
    });
    return model;
  },
};
