import type { DeviceFactory } from './device.js';
import { nvmeFactory } from './nvme/index.js';
import { iwlwifiFactory } from './iwlwifi/index.js';

/** Every device type a machine file may name. A new device is one folder plus one line here. */
export const DEVICE_FACTORIES: readonly DeviceFactory[] = [nvmeFactory as unknown as DeviceFactory, iwlwifiFactory as unknown as DeviceFactory];

export function findDeviceFactory(type: string): DeviceFactory | undefined {
  return DEVICE_FACTORIES.find((f) => f.type === type);
}
