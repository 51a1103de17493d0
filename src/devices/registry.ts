import type { DeviceDecoder } from '../trace/decoder.js';
import { registerDevice, type AnyDeviceFactory } from './device.js';
import { nvmeFactory } from './nvme/index.js';
import { iwlwifiFactory } from './iwlwifi/index.js';
import { virtioBlkFactory } from './virtio/blk/index.js';
import { virtioNetFactory } from './virtio/net/index.js';
import { ahciFactory } from './ahci/index.js';
import { intelDisplayFactory } from './intel-display/index.js';

/** Every device type a machine file may name. A new device is one folder plus one line here. */
export const DEVICE_FACTORIES: readonly AnyDeviceFactory[] = [
  registerDevice(nvmeFactory),
  registerDevice(iwlwifiFactory),
  registerDevice(virtioBlkFactory),
  registerDevice(virtioNetFactory),
  registerDevice(ahciFactory),
  registerDevice(intelDisplayFactory),
];

export function findDeviceFactory(type: string): AnyDeviceFactory | undefined {
  return DEVICE_FACTORIES.find((f) => f.type === type);
}

/** Register and payload decoders by device type, for inspect, replay reports and diff. */
export function deviceDecoders(): Map<string, DeviceDecoder> {
  return new Map(DEVICE_FACTORIES.map((f) => [f.type, f.decoder]));
}
