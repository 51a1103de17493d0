//! What the generic KMS/GEM core asks of a hardware driver (the Intel one,
//! intel/): connectors and their probing, GPU address space for buffers,
//! enabling and disabling a CRTC, flips, frame counters, vblank interrupts.
//! The core owns objects, ids, properties, state checking and events; the
//! driver owns registers.

use alloc::string::String;
use alloc::vec::Vec;

use redox_driver::Result;

use super::mode::ModeInfo;

/// What VERSION reports.
pub struct DriverInfo {
    pub name: &'static str,
    pub desc: &'static str,
    pub date: &'static str,
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
}

/// A connector as the hardware has it (fixed for the device's life).
#[derive(Clone, Debug)]
pub struct ConnectorDesc {
    /// Linux's connector type (HDMIA 11, ...).
    pub type_: u32,
    /// 1-based number among connectors of that type.
    pub type_id: u32,
    /// Mask of CRTC indices the connector's encoder can be driven by.
    pub possible_crtcs: u32,
    /// For logs ("HDMI-A-1 (DDI B)").
    pub name: String,
}

/// What probing a connector found.
pub struct Probe {
    pub connected: bool,
    /// The EDID base block, if one was read.
    pub edid: Option<[u8; 128]>,
}

/// A framebuffer as the scanout engine sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanout {
    /// GPU (GGTT) address of the buffer's first byte.
    pub gpu: u32,
    pub pitch: u32,
    pub width: u32,
    pub height: u32,
    /// Panning: the first pixel shown.
    pub x: u32,
    pub y: u32,
}

/// A full modeset: mode, connector, framebuffer.
pub struct Modeset {
    pub mode: ModeInfo,
    pub connector: usize,
    pub fb: Scanout,
}

/// A CRTC the firmware left running that the driver took over.
pub struct Adopted {
    pub crtc: usize,
    pub connector: usize,
    /// The transcoder's timings; `clock` 0 if the driver could not tell it.
    pub timings: ModeInfo,
    pub fb: Scanout,
    /// Bytes of GPU address space the firmware's framebuffer occupies.
    pub fb_bytes: u32,
}

/// What one interrupt brought.
#[derive(Default, Debug, Clone, Copy)]
pub struct IrqReport {
    /// CRTCs (mask) that reached vblank.
    pub vblank: u32,
    /// CRTCs (mask) whose plane flip completed.
    pub flip_done: u32,
    /// Connectors (mask) whose hot-plug state changed.
    pub hotplug: u32,
}

pub trait KmsDriver {
    fn info(&self) -> DriverInfo;
    fn crtc_count(&self) -> usize;
    fn connectors(&self) -> Vec<ConnectorDesc>;
    /// (min_width, max_width, min_height, max_height).
    fn limits(&self) -> (u32, u32, u32, u32);
    /// Connection status and EDID (reads the monitor).
    fn probe(&mut self, connector: usize) -> Probe;
    /// Maps `size` bytes of RAM at `phys` into GPU address space.
    fn gpu_map(&mut self, phys: u64, size: usize) -> Result<u32>;
    fn gpu_unmap(&mut self, gpu: u32, size: usize);
    /// The mode can be driven (clock in range, a PLL setting exists).
    fn check_mode(&self, crtc: usize, mode: &ModeInfo) -> Result<()>;
    fn enable(&mut self, crtc: usize, m: &Modeset) -> Result<()>;
    fn disable(&mut self, crtc: usize) -> Result<()>;
    /// Programs the plane for `fb` with the update armed for the next vblank (or at once with `async_`).
    fn flip(&mut self, crtc: usize, fb: &Scanout, async_: bool) -> Result<()>;
    /// The scanout engine shows `fb` now (the flip latched).
    fn flip_latched(&self, crtc: usize, fb: &Scanout) -> bool;
    /// Waits (a bounded poll) until `fb` is shown; false on timeout.
    fn wait_flip(&mut self, crtc: usize, fb: &Scanout) -> bool;
    fn frame_counter(&self, crtc: usize) -> u32;
    fn set_vblank_irq(&mut self, crtc: usize, on: bool);
    /// Services the interrupt; None if the device did not raise it.
    fn irq(&mut self) -> Option<IrqReport>;
    /// The CRTC the firmware left on, adopted at start.
    fn take_adopted(&mut self) -> Option<Adopted>;
}
