//! virtio-blk definitions (virtio 1.2 5.2), written from the specification:
//! feature bits, the device configuration layout, request types and status
//! values, and the request header.

/// Device id of a block device (5.2.1): PCI device 0x1040 + 2.
pub const VIRTIO_ID_BLOCK: u16 = 2;

// Feature bits (5.2.3)
pub const F_SIZE_MAX: u64 = 1 << 1;
pub const F_SEG_MAX: u64 = 1 << 2;
pub const F_GEOMETRY: u64 = 1 << 4;
pub const F_RO: u64 = 1 << 5;
pub const F_BLK_SIZE: u64 = 1 << 6;
pub const F_FLUSH: u64 = 1 << 9;
pub const F_TOPOLOGY: u64 = 1 << 10;
pub const F_CONFIG_WCE: u64 = 1 << 11;
pub const F_MQ: u64 = 1 << 12;
pub const F_DISCARD: u64 = 1 << 13;
pub const F_WRITE_ZEROES: u64 = 1 << 14;

// struct virtio_blk_config (5.2.4), byte offsets
pub const CFG_CAPACITY: usize = 0x00; // le64, in 512-byte sectors
pub const CFG_SIZE_MAX: usize = 0x08; // le32
pub const CFG_SEG_MAX: usize = 0x0c; // le32
pub const CFG_BLK_SIZE: usize = 0x14; // le32
pub const CFG_NUM_QUEUES: usize = 0x22; // le16

/// Sectors are 512 bytes whatever blk_size says (5.2.6).
pub const SECTOR_SIZE: u64 = 512;

// Request types (5.2.6)
pub const T_IN: u32 = 0;
pub const T_OUT: u32 = 1;
pub const T_FLUSH: u32 = 4;
pub const T_GET_ID: u32 = 8;

/// Bytes of the device id string GET_ID writes.
pub const ID_BYTES: usize = 20;

// Status byte (5.2.6)
pub const S_OK: u8 = 0;
pub const S_IOERR: u8 = 1;
pub const S_UNSUPP: u8 = 2;

/// A status value the device has not written: the driver's initial value.
pub const S_NONE: u8 = 0xff;

pub fn status_name(s: u8) -> &'static str {
    match s {
        S_OK => "OK",
        S_IOERR => "IOERR",
        S_UNSUPP => "UNSUPP",
        S_NONE => "no status written",
        _ => "unknown status",
    }
}

pub fn type_name(t: u32) -> &'static str {
    match t {
        T_IN => "read",
        T_OUT => "write",
        T_FLUSH => "flush",
        T_GET_ID => "get-id",
        _ => "request",
    }
}

/// A request's header (device-readable: le32 type, le32 reserved, le64
/// sector) and its status byte (device-writable) in one DMA slot; the two
/// are separate descriptors of the chain.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ReqSlot {
    pub kind: u32,
    pub reserved: u32,
    pub sector: u64,
    pub status: u8,
    pub _pad: [u8; 7],
}

pub const HEADER_BYTES: u32 = 16;
/// Offset of the status byte in a slot.
pub const STATUS_OFFSET: u64 = 16;

const _: () = assert!(core::mem::size_of::<ReqSlot>() == 24);
