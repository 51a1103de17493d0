//! The DRM user ABI as docs/DRM-SCHEME.md carries it: Linux's ioctl codes
//! (`_IOC(dir, 'd', nr, size)`) and structure layouts (drm.h, drm_mode.h),
//! written out here from those headers' meaning. The table is kept whole
//! (some values are only named for completeness).
#![allow(dead_code)]

/// `_IOC_SIZE` of a code: bits 29:16.
pub const fn ioc_size(code: u32) -> usize {
    ((code >> 16) & 0x3fff) as usize
}

pub const VERSION: u32 = 0xC040_6400;
pub const GEM_CLOSE: u32 = 0x4008_6409;
pub const GET_CAP: u32 = 0xC010_640C;
pub const SET_CLIENT_CAP: u32 = 0x4010_640D;
pub const WAIT_VBLANK: u32 = 0xC018_643A;
pub const MODE_GETRESOURCES: u32 = 0xC040_64A0;
pub const MODE_GETCRTC: u32 = 0xC068_64A1;
pub const MODE_SETCRTC: u32 = 0xC068_64A2;
pub const MODE_GETENCODER: u32 = 0xC014_64A6;
pub const MODE_GETCONNECTOR: u32 = 0xC050_64A7;
pub const MODE_GETPROPERTY: u32 = 0xC040_64AA;
pub const MODE_GETPROPBLOB: u32 = 0xC010_64AC;
pub const MODE_ADDFB: u32 = 0xC01C_64AE;
pub const MODE_RMFB: u32 = 0xC004_64AF;
pub const MODE_PAGE_FLIP: u32 = 0xC018_64B0;
pub const MODE_CREATE_DUMB: u32 = 0xC020_64B2;
pub const MODE_MAP_DUMB: u32 = 0xC010_64B3;
pub const MODE_DESTROY_DUMB: u32 = 0xC004_64B4;
pub const MODE_GETPLANERESOURCES: u32 = 0xC010_64B5;
pub const MODE_GETPLANE: u32 = 0xC020_64B6;
pub const MODE_ADDFB2: u32 = 0xC068_64B8;
pub const MODE_OBJ_GETPROPERTIES: u32 = 0xC020_64B9;
pub const MODE_ATOMIC: u32 = 0xC038_64BC;
pub const MODE_CREATEPROPBLOB: u32 = 0xC010_64BD;
pub const MODE_DESTROYPROPBLOB: u32 = 0xC004_64BE;

// GET_CAP capabilities
pub const CAP_DUMB_BUFFER: u64 = 0x1;
pub const CAP_VBLANK_HIGH_CRTC: u64 = 0x2;
pub const CAP_DUMB_PREFERRED_DEPTH: u64 = 0x3;
pub const CAP_DUMB_PREFER_SHADOW: u64 = 0x4;
pub const CAP_TIMESTAMP_MONOTONIC: u64 = 0x6;
pub const CAP_ASYNC_PAGE_FLIP: u64 = 0x7;
pub const CAP_CURSOR_WIDTH: u64 = 0x8;
pub const CAP_CURSOR_HEIGHT: u64 = 0x9;
pub const CAP_ADDFB2_MODIFIERS: u64 = 0x10;
pub const CAP_CRTC_IN_VBLANK_EVENT: u64 = 0x12;

// SET_CLIENT_CAP
pub const CLIENT_CAP_UNIVERSAL_PLANES: u64 = 2;
pub const CLIENT_CAP_ATOMIC: u64 = 3;

// WAIT_VBLANK type bits
pub const VBLANK_RELATIVE: u32 = 0x1;
pub const VBLANK_HIGH_CRTC_SHIFT: u32 = 1;
pub const VBLANK_HIGH_CRTC_MASK: u32 = 0x3e;
pub const VBLANK_EVENT: u32 = 0x0400_0000;
pub const VBLANK_FLIP: u32 = 0x0800_0000;
pub const VBLANK_NEXTONMISS: u32 = 0x1000_0000;
pub const VBLANK_SECONDARY: u32 = 0x2000_0000;
pub const VBLANK_SIGNAL: u32 = 0x4000_0000;

// Page flip flags
pub const PAGE_FLIP_EVENT: u32 = 0x01;
pub const PAGE_FLIP_ASYNC: u32 = 0x02;

// Atomic flags
pub const ATOMIC_TEST_ONLY: u32 = 0x100;
pub const ATOMIC_NONBLOCK: u32 = 0x200;
pub const ATOMIC_ALLOW_MODESET: u32 = 0x400;
pub const ATOMIC_FLAGS: u32 = PAGE_FLIP_EVENT | ATOMIC_TEST_ONLY | ATOMIC_NONBLOCK | ATOMIC_ALLOW_MODESET;

// Object types (drm_mode.h DRM_MODE_OBJECT_*)
pub const OBJECT_ANY: u32 = 0;
pub const OBJECT_CRTC: u32 = 0xcccc_cccc;
pub const OBJECT_CONNECTOR: u32 = 0xc0c0_c0c0;
pub const OBJECT_ENCODER: u32 = 0xe0e0_e0e0;
pub const OBJECT_PROPERTY: u32 = 0xb0b0_b0b0;
pub const OBJECT_FB: u32 = 0xfbfb_fbfb;
pub const OBJECT_BLOB: u32 = 0xbbbb_bbbb;
pub const OBJECT_PLANE: u32 = 0xeeee_eeee;

// Property flags
pub const PROP_RANGE: u32 = 1 << 1;
pub const PROP_IMMUTABLE: u32 = 1 << 2;
pub const PROP_ENUM: u32 = 1 << 3;
pub const PROP_BLOB: u32 = 1 << 4;
pub const PROP_OBJECT: u32 = 1 << 6;
pub const PROP_SIGNED_RANGE: u32 = 2 << 6;
pub const PROP_ATOMIC: u32 = 0x8000_0000;

// Connector
pub const CONNECTOR_HDMIA: u32 = 11;
pub const CONNECTED: u32 = 1;
pub const DISCONNECTED: u32 = 2;
pub const SUBPIXEL_UNKNOWN: u32 = 1;
pub const ENCODER_TMDS: u32 = 2;

// Mode flags and types
pub const MODE_FLAG_PHSYNC: u32 = 1;
pub const MODE_FLAG_NHSYNC: u32 = 2;
pub const MODE_FLAG_PVSYNC: u32 = 4;
pub const MODE_FLAG_NVSYNC: u32 = 8;
pub const MODE_FLAG_INTERLACE: u32 = 0x10;
pub const MODE_TYPE_PREFERRED: u32 = 1 << 3;
pub const MODE_TYPE_DRIVER: u32 = 1 << 6;
pub const MODEINFO_SIZE: usize = 68;

// Pixel formats (fourcc)
pub const FORMAT_XRGB8888: u32 = 0x3432_5258;
pub const FORMAT_ARGB8888: u32 = 0x3432_5241;

// Events
pub const EVENT_VBLANK: u32 = 0x01;
pub const EVENT_FLIP_COMPLETE: u32 = 0x02;
pub const SIMRUN_EVENT_HOTPLUG: u32 = 0x8000_0001;

// errno values (Redox's, the same as Linux's) beyond redox-driver's
pub const EFAULT: i32 = 14;
pub const ENOTTY: i32 = 25;
pub const ERANGE: i32 = 34;
pub const EOPNOTSUPP: i32 = 95;

/// The open flag of the kernel model asking for EAGAIN instead of blocking.
pub const O_NONBLOCK: u32 = 0x4;
