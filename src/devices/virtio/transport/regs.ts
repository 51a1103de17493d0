/**
 * The model's own definitions of the virtio 1.2 PCI transport (modern
 * interface only): status bits, transport feature bits, capability types,
 * the common configuration layout (4.1.4.3) and where each structure sits in
 * the BAR. Written from the specification; drivers keep their own copies.
 */

/** Red Hat/Qumranet virtio vendor (4.1.2). */
export const VIRTIO_PCI_VENDOR = 0x1af4;
/** Modern device ids are 0x1040 + the virtio device type (4.1.2). */
export const VIRTIO_PCI_DEVICE_BASE = 0x1040;
/** Revision 1: a non-transitional (modern only) device (4.1.2.1). */
export const VIRTIO_PCI_REVISION = 1;

// ---- Device status (2.1) -------------------------------------------------------
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;
/** Bits the driver may set. */
export const STATUS_DRIVER_BITS = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK | STATUS_FEATURES_OK | STATUS_FAILED;

// ---- Transport feature bits (6) -------------------------------------------------
export const F_INDIRECT_DESC = 28;
export const F_EVENT_IDX = 29;
export const F_VERSION_1 = 32;
export const F_ACCESS_PLATFORM = 33;
export const F_RING_PACKED = 34;
export const F_IN_ORDER = 35;
export const F_NOTIFICATION_DATA = 38;
export const F_RING_RESET = 40;
/** Feature words (32 bits each) the transport keeps: bits 0..127. */
export const FEATURE_WORDS = 4;

// ---- Capability types (4.1.4) ----------------------------------------------------
export const CAP_COMMON_CFG = 1;
export const CAP_NOTIFY_CFG = 2;
export const CAP_ISR_CFG = 3;
export const CAP_DEVICE_CFG = 4;
export const CAP_PCI_CFG = 5;
/** struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, padding[2], offset, length. */
export const CAP_LEN = 16;
/** virtio_pci_notify_cap: the capability plus notify_off_multiplier. */
export const NOTIFY_CAP_LEN = 20;
/** virtio_pci_cfg_cap: the capability plus pci_cfg_data[4]. */
export const PCI_CFG_CAP_LEN = 20;
// Field offsets inside a capability (from the ID byte).
export const CAP_OFF_LEN = 2;
export const CAP_OFF_TYPE = 3;
export const CAP_OFF_BAR = 4;
export const CAP_OFF_ID = 5;
export const CAP_OFF_OFFSET = 8;
export const CAP_OFF_LENGTH = 12;
export const CAP_OFF_NOTIFY_MULT = 16;
export const CAP_OFF_PCI_CFG_DATA = 16;

// ---- Common configuration (4.1.4.3) -------------------------------------------------
export const CC_DEVICE_FEATURE_SELECT = 0x00;
export const CC_DEVICE_FEATURE = 0x04;
export const CC_DRIVER_FEATURE_SELECT = 0x08;
export const CC_DRIVER_FEATURE = 0x0c;
export const CC_CONFIG_MSIX_VECTOR = 0x10;
export const CC_NUM_QUEUES = 0x12;
export const CC_DEVICE_STATUS = 0x14;
export const CC_CONFIG_GENERATION = 0x15;
export const CC_QUEUE_SELECT = 0x16;
export const CC_QUEUE_SIZE = 0x18;
export const CC_QUEUE_MSIX_VECTOR = 0x1a;
export const CC_QUEUE_ENABLE = 0x1c;
export const CC_QUEUE_NOTIFY_OFF = 0x1e;
export const CC_QUEUE_DESC = 0x20;
export const CC_QUEUE_DESC_HI = 0x24;
export const CC_QUEUE_DRIVER = 0x28;
export const CC_QUEUE_DRIVER_HI = 0x2c;
export const CC_QUEUE_DEVICE = 0x30;
export const CC_QUEUE_DEVICE_HI = 0x34;
export const CC_QUEUE_NOTIFY_DATA = 0x38;
export const CC_QUEUE_RESET = 0x3a;
/** Size of struct virtio_pci_common_cfg with queue_reset (1.2). */
export const COMMON_CFG_SIZE = 0x3c;

/** Each common configuration field: offset, width in bytes, spec name. 64-bit fields are two 32-bit halves. */
export const COMMON_FIELDS: ReadonlyArray<readonly [number, number, string]> = [
  [CC_DEVICE_FEATURE_SELECT, 4, 'device_feature_select'],
  [CC_DEVICE_FEATURE, 4, 'device_feature'],
  [CC_DRIVER_FEATURE_SELECT, 4, 'driver_feature_select'],
  [CC_DRIVER_FEATURE, 4, 'driver_feature'],
  [CC_CONFIG_MSIX_VECTOR, 2, 'config_msix_vector'],
  [CC_NUM_QUEUES, 2, 'num_queues'],
  [CC_DEVICE_STATUS, 1, 'device_status'],
  [CC_CONFIG_GENERATION, 1, 'config_generation'],
  [CC_QUEUE_SELECT, 2, 'queue_select'],
  [CC_QUEUE_SIZE, 2, 'queue_size'],
  [CC_QUEUE_MSIX_VECTOR, 2, 'queue_msix_vector'],
  [CC_QUEUE_ENABLE, 2, 'queue_enable'],
  [CC_QUEUE_NOTIFY_OFF, 2, 'queue_notify_off'],
  [CC_QUEUE_DESC, 4, 'queue_desc'],
  [CC_QUEUE_DESC_HI, 4, 'queue_desc_hi'],
  [CC_QUEUE_DRIVER, 4, 'queue_driver'],
  [CC_QUEUE_DRIVER_HI, 4, 'queue_driver_hi'],
  [CC_QUEUE_DEVICE, 4, 'queue_device'],
  [CC_QUEUE_DEVICE_HI, 4, 'queue_device_hi'],
  [CC_QUEUE_NOTIFY_DATA, 2, 'queue_notify_data'],
  [CC_QUEUE_RESET, 2, 'queue_reset'],
];

/** Width of the common configuration field starting at `offset`, or 0 if no field starts there. */
export const COMMON_FIELD_WIDTH: Uint8Array = (() => {
  const w = new Uint8Array(COMMON_CFG_SIZE);
  for (const [off, size] of COMMON_FIELDS) w[off] = size;
  return w;
})();

/** Spec name of the common configuration field containing `offset` ("queue_desc", "device_status+1"). */
export function commonFieldName(offset: number): string | undefined {
  for (const [off, size, name] of COMMON_FIELDS) {
    if (offset >= off && offset < off + size) return offset === off ? name : `${name}+${offset - off}`;
  }
  return undefined;
}

// ---- Interrupts (4.1.4.5, 4.1.5.1.2) -------------------------------------------------
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
export const ISR_QUEUE = 1;
export const ISR_CONFIG = 2;

// ---- BAR layout of the virtio structures (the model's choice; QEMU's arrangement) ----------
/** The structures live in BAR 4, a 64-bit memory BAR; the MSI-X table and PBA in BAR 1. */
export const VIRTIO_BAR = 4;
export const VIRTIO_BAR_SIZE = 0x4000;
export const COMMON_OFFSET = 0x0000;
export const ISR_OFFSET = 0x1000;
export const DEVICE_CFG_OFFSET = 0x2000;
export const NOTIFY_OFFSET = 0x3000;
export const REGION_SIZE = 0x1000;
/** Bytes between the notify addresses of consecutive queue_notify_off values. */
export const NOTIFY_OFF_MULTIPLIER = 4;
export const MSIX_BAR = 1;
export const MSIX_BAR_SIZE = 0x1000;
export const MSIX_TABLE_OFFSET = 0x000;
export const MSIX_PBA_OFFSET = 0x800;

/** Names of the status bits set in `v`, e.g. "ACKNOWLEDGE|DRIVER|FEATURES_OK" ("0" when none). */
export function statusNames(v: number): string {
  const names: string[] = [];
  if (v & STATUS_ACKNOWLEDGE) names.push('ACKNOWLEDGE');
  if (v & STATUS_DRIVER) names.push('DRIVER');
  if (v & STATUS_FEATURES_OK) names.push('FEATURES_OK');
  if (v & STATUS_DRIVER_OK) names.push('DRIVER_OK');
  if (v & STATUS_DEVICE_NEEDS_RESET) names.push('DEVICE_NEEDS_RESET');
  if (v & STATUS_FAILED) names.push('FAILED');
  const other = v & ~(STATUS_DRIVER_BITS | STATUS_DEVICE_NEEDS_RESET) & 0xff;
  if (other !== 0) names.push(`0x${other.toString(16)}`);
  return names.length === 0 ? '0' : names.join('|');
}

/** Transport feature names by bit (device-type feature names come from the device). */
export const TRANSPORT_FEATURE_NAMES: Readonly<Record<number, string>> = {
  [F_INDIRECT_DESC]: 'INDIRECT_DESC',
  [F_EVENT_IDX]: 'EVENT_IDX',
  [F_VERSION_1]: 'VERSION_1',
  [F_ACCESS_PLATFORM]: 'ACCESS_PLATFORM',
  [F_RING_PACKED]: 'RING_PACKED',
  [F_IN_ORDER]: 'IN_ORDER',
  [F_NOTIFICATION_DATA]: 'NOTIFICATION_DATA',
  [F_RING_RESET]: 'RING_RESET',
};

export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
