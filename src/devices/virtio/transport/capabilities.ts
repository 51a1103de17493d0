/**
 * The virtio vendor-specific PCI capabilities (virtio 1.2 4.1.4): one per
 * structure, in the order the list shows them: common configuration, notify
 * (with notify_off_multiplier), ISR status, device configuration, and the
 * PCI configuration access window. Each names its BAR, offset and length.
 */
import type { CapabilityWindow, VendorCapSpec } from '../../pci/api.js';
import {
  CAP_COMMON_CFG, CAP_DEVICE_CFG, CAP_ISR_CFG, CAP_LEN, CAP_NOTIFY_CFG, CAP_PCI_CFG, COMMON_CFG_SIZE, COMMON_OFFSET,
  DEVICE_CFG_OFFSET, ISR_OFFSET, NOTIFY_CAP_LEN, NOTIFY_OFF_MULTIPLIER, NOTIFY_OFFSET, PCI_CFG_CAP_LEN, CAP_OFF_PCI_CFG_DATA,
  VIRTIO_BAR,
} from './regs.js';

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Bytes 2.. of struct virtio_pci_cap: cap_len, cfg_type, bar, id, padding[2], offset, length. */
function capBody(capLen: number, type: number, bar: number, offset: number, length: number): number[] {
  return [capLen, type, bar, 0, 0, 0, ...le32(offset), ...le32(length)];
}

export interface VirtioCapLayout {
  deviceCfgLength: number;
  numQueues: number;
}

/**
 * The capability list. The notify region holds one 16-bit address per queue
 * (queue_notify_off = queue index); the PCI_CFG capability's bar, offset
 * and length bytes are guest-writable, its pci_cfg_data is `window`.
 */
export function virtioCapabilities(l: VirtioCapLayout, window: Pick<CapabilityWindow, 'read' | 'write'>): VendorCapSpec[] {
  const notifyLength = Math.max(2, (l.numQueues - 1) * NOTIFY_OFF_MULTIPLIER + 2);
  const pciCfgWritable = new Array<number>(PCI_CFG_CAP_LEN - 2).fill(0);
  // bar (byte 4) and offset/length (bytes 8..15), indexed from byte 2.
  pciCfgWritable[4 - 2] = 0xff;
  for (let i = 8; i < 16; i++) pciCfgWritable[i - 2] = 0xff;
  return [
    { body: capBody(CAP_LEN, CAP_COMMON_CFG, VIRTIO_BAR, COMMON_OFFSET, COMMON_CFG_SIZE) },
    { body: [...capBody(NOTIFY_CAP_LEN, CAP_NOTIFY_CFG, VIRTIO_BAR, NOTIFY_OFFSET, notifyLength), ...le32(NOTIFY_OFF_MULTIPLIER)] },
    { body: capBody(CAP_LEN, CAP_ISR_CFG, VIRTIO_BAR, ISR_OFFSET, 1) },
    { body: capBody(CAP_LEN, CAP_DEVICE_CFG, VIRTIO_BAR, DEVICE_CFG_OFFSET, l.deviceCfgLength) },
    {
      body: [...capBody(PCI_CFG_CAP_LEN, CAP_PCI_CFG, 0, 0, 0), 0, 0, 0, 0],
      writable: pciCfgWritable,
      window: {
        offset: CAP_OFF_PCI_CFG_DATA,
        length: 4,
        read: (cap, offset, size) => window.read(cap, offset, size),
        write: (cap, offset, size, value) => window.write(cap, offset, size, value),
      },
    },
  ];
}
