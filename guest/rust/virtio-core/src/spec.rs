//! Constants of the virtio 1.2 specification that every device type shares
//! (the transport and the split virtqueue), written from the specification's
//! text: device status (2.1), reserved feature bits (6), the virtio PCI
//! capabilities and common configuration layout (4.1.4), split virtqueue
//! descriptors and rings (2.7). Device-type constants (block, network) belong
//! to the driver of that type.

// ---- Device status field (2.1)
pub const STATUS_ACKNOWLEDGE: u8 = 1;
pub const STATUS_DRIVER: u8 = 2;
pub const STATUS_DRIVER_OK: u8 = 4;
pub const STATUS_FEATURES_OK: u8 = 8;
pub const STATUS_DEVICE_NEEDS_RESET: u8 = 0x40;
pub const STATUS_FAILED: u8 = 0x80;

// ---- Reserved (transport) feature bits (6), as masks of the 64-bit feature set
pub const F_INDIRECT_DESC: u64 = 1 << 28;
pub const F_EVENT_IDX: u64 = 1 << 29;
pub const F_VERSION_1: u64 = 1 << 32;
pub const F_ACCESS_PLATFORM: u64 = 1 << 33;
pub const F_RING_PACKED: u64 = 1 << 34;
pub const F_IN_ORDER: u64 = 1 << 35;
pub const F_ORDER_PLATFORM: u64 = 1 << 36;
pub const F_SR_IOV: u64 = 1 << 37;
pub const F_NOTIFICATION_DATA: u64 = 1 << 38;
pub const F_RING_RESET: u64 = 1 << 40;

// ---- PCI (4.1)
pub const PCI_VENDOR: u16 = 0x1af4;
/// Modern device ids are 0x1040 + the virtio device id (4.1.2.1).
pub const PCI_DEVICE_MODERN_BASE: u16 = 0x1040;
/// PCI capability id of a vendor-specific capability (the virtio structures).
pub const PCI_CAP_ID_VNDR: u8 = 0x09;
/// PCI status register bit: the function has a capability list.
pub const PCI_STATUS_CAP_LIST: u16 = 1 << 4;
/// Config-space offsets of the status register and the capability pointer.
pub const PCI_CFG_STATUS: u16 = 0x06;
pub const PCI_CFG_CAP_PTR: u16 = 0x34;

// cfg_type of struct virtio_pci_cap (4.1.4)
pub const PCI_CAP_COMMON_CFG: u8 = 1;
pub const PCI_CAP_NOTIFY_CFG: u8 = 2;
pub const PCI_CAP_ISR_CFG: u8 = 3;
pub const PCI_CAP_DEVICE_CFG: u8 = 4;
pub const PCI_CAP_PCI_CFG: u8 = 5;
pub const PCI_CAP_SHARED_MEMORY_CFG: u8 = 8;
pub const PCI_CAP_VENDOR_CFG: u8 = 9;

// Field offsets of struct virtio_pci_cap (after cap_vndr, cap_next)
pub const CAP_LEN: u16 = 2;
pub const CAP_CFG_TYPE: u16 = 3;
pub const CAP_BAR: u16 = 4;
pub const CAP_OFFSET: u16 = 8;
pub const CAP_LENGTH: u16 = 12;
/// struct virtio_pci_notify_cap: notify_off_multiplier after the common part.
pub const CAP_NOTIFY_OFF_MULTIPLIER: u16 = 16;

// struct virtio_pci_common_cfg (4.1.4.3), byte offsets; accessed with each field's natural width
pub const COMMON_DEVICE_FEATURE_SELECT: usize = 0x00; // le32
pub const COMMON_DEVICE_FEATURE: usize = 0x04; // le32, RO
pub const COMMON_DRIVER_FEATURE_SELECT: usize = 0x08; // le32
pub const COMMON_DRIVER_FEATURE: usize = 0x0c; // le32
pub const COMMON_CONFIG_MSIX_VECTOR: usize = 0x10; // le16
pub const COMMON_NUM_QUEUES: usize = 0x12; // le16, RO
pub const COMMON_DEVICE_STATUS: usize = 0x14; // u8
pub const COMMON_CONFIG_GENERATION: usize = 0x15; // u8, RO
pub const COMMON_QUEUE_SELECT: usize = 0x16; // le16
pub const COMMON_QUEUE_SIZE: usize = 0x18; // le16
pub const COMMON_QUEUE_MSIX_VECTOR: usize = 0x1a; // le16
pub const COMMON_QUEUE_ENABLE: usize = 0x1c; // le16
pub const COMMON_QUEUE_NOTIFY_OFF: usize = 0x1e; // le16, RO
pub const COMMON_QUEUE_DESC: usize = 0x20; // le64 (two le32, low first)
pub const COMMON_QUEUE_DRIVER: usize = 0x28; // le64
pub const COMMON_QUEUE_DEVICE: usize = 0x30; // le64
pub const COMMON_QUEUE_NOTIFY_DATA: usize = 0x38; // le16, RO
pub const COMMON_QUEUE_RESET: usize = 0x3a; // le16
/// Bytes of the common configuration this driver uses (up to queue_reset).
pub const COMMON_CFG_LEN: usize = 0x3c;

/// "No MSI-X vector" for config_msix_vector / queue_msix_vector (4.1.4.3).
pub const MSI_NO_VECTOR: u16 = 0xffff;

// ISR status bits (4.1.4.5)
pub const ISR_QUEUE: u8 = 1;
pub const ISR_CONFIG: u8 = 2;

// ---- Split virtqueues (2.7)
/// struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next.
pub const DESC_SIZE: usize = 16;
pub const DESC_F_NEXT: u16 = 1;
pub const DESC_F_WRITE: u16 = 2;
pub const DESC_F_INDIRECT: u16 = 4;
/// virtq_avail.flags: do not interrupt (without EVENT_IDX).
pub const AVAIL_F_NO_INTERRUPT: u16 = 1;
/// virtq_used.flags: do not notify (without EVENT_IDX).
pub const USED_F_NO_NOTIFY: u16 = 1;
/// Largest queue size of a split virtqueue (2.7).
pub const QUEUE_SIZE_MAX: u16 = 32768;
/// Alignment of the descriptor table, driver area and device area (2.7: 16, 2, 4).
pub const DESC_ALIGN: usize = 16;
pub const AVAIL_ALIGN: usize = 2;
pub const USED_ALIGN: usize = 4;

/// Bytes of the driver area (virtq_avail) of a queue of `size`: flags, idx, ring[size], used_event.
pub const fn avail_bytes(size: u16) -> usize {
    6 + 2 * size as usize
}

/// Bytes of the device area (virtq_used): flags, idx, ring[size] of (le32 id, le32 len), avail_event.
pub const fn used_bytes(size: u16) -> usize {
    6 + 8 * size as usize
}

/// `vring_need_event` (2.7.10): whether moving an index from `old` to `new`
/// passed `event` (the other side's used_event / avail_event), modulo 2^16.
#[inline]
pub fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

/// The name of a transport feature bit, for logs.
pub fn transport_feature_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        28 => "INDIRECT_DESC",
        29 => "EVENT_IDX",
        32 => "VERSION_1",
        33 => "ACCESS_PLATFORM",
        34 => "RING_PACKED",
        35 => "IN_ORDER",
        36 => "ORDER_PLATFORM",
        37 => "SR_IOV",
        38 => "NOTIFICATION_DATA",
        40 => "RING_RESET",
        _ => return None,
    })
}

/// Device status as text ("ACKNOWLEDGE|DRIVER|..."), for logs.
pub fn status_names(status: u8) -> alloc::string::String {
    let names = [
        (STATUS_ACKNOWLEDGE, "ACKNOWLEDGE"), (STATUS_DRIVER, "DRIVER"), (STATUS_FEATURES_OK, "FEATURES_OK"),
        (STATUS_DRIVER_OK, "DRIVER_OK"), (STATUS_DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET"), (STATUS_FAILED, "FAILED"),
    ];
    let mut out = alloc::string::String::new();
    for (bit, name) in names {
        if status & bit != 0 {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
        }
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}
