//! The virtio PCI transport, driver side (virtio 1.2 4.1): finding the
//! virtio structures through the vendor-specific PCI capabilities, the
//! device status handshake and feature negotiation (3.1.1), device
//! configuration reads with config_generation (2.5.1), the ISR (4.1.4.5),
//! MSI-X vector mapping (4.1.5.1.2) and queue notifications (4.1.4.4).
//!
//! Typical initialisation (3.1.1), with `t: Transport`:
//!
//! ```ignore
//! let mut t = Transport::probe(&mut pcid)?;          // capabilities, BARs mapped
//! t.begin_init(RESET_TIMEOUT)?;                      // reset, ACKNOWLEDGE, DRIVER
//! let features = t.negotiate(wanted, required)?;     // FEATURES_OK read back (FAILED on refusal)
//! // device configuration: t.read_config(|c| c.read64(0))
//! let mut q = VirtQueue::new(&t, 0, 256, features, 0)?;
//! q.set_vector(&t, 1)?;  q.enable(&t);
//! t.driver_ok();
//! ```

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::error::{EIO, ENODEV, ETIMEDOUT};
use redox_driver::time::{self, Instant};
use redox_driver::{error, Error, Mmio, PciFunctionHandle, Result};

use crate::spec::*;

/// Where one virtio structure is: BAR, offset and length from its capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapLocation {
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
}

/// The virtio capabilities of a PCI function (4.1.4): the first usable one of each type.
#[derive(Clone, Copy, Debug, Default)]
pub struct VirtioCaps {
    pub common: Option<CapLocation>,
    pub notify: Option<CapLocation>,
    pub notify_off_multiplier: u32,
    pub isr: Option<CapLocation>,
    pub device: Option<CapLocation>,
}

/// Walks the PCI capability list for vendor-specific (0x09) virtio
/// capabilities. Capabilities naming a BAR other than 0-5 are skipped, as
/// are later ones of a type already found (4.1.4.1: the driver should use
/// the first it can).
pub fn find_capabilities(pcid: &PciFunctionHandle) -> Result<VirtioCaps> {
    let status = (pcid.read_config(PCI_CFG_STATUS & !3) >> 16) as u16;
    if status & PCI_STATUS_CAP_LIST == 0 {
        error!("virtio: the function has no capability list");
        return Err(Error::new(ENODEV));
    }
    let mut caps = VirtioCaps::default();
    let mut ptr = (pcid.read_config(PCI_CFG_CAP_PTR) & 0xfc) as u16;
    // A capability list has at most 48 entries in 256 bytes of config space: a longer walk is a loop.
    let mut budget = 48;
    while ptr >= 0x40 && budget > 0 {
        budget -= 1;
        let head = pcid.read_config(ptr);
        let id = head as u8;
        let next = ((head >> 8) & 0xfc) as u16;
        if id == PCI_CAP_ID_VNDR {
            let cap_len = (head >> (8 * CAP_LEN as u32)) as u8;
            let cfg_type = (head >> (8 * CAP_CFG_TYPE as u32)) as u8;
            let bar = pcid.read_config(ptr + CAP_BAR) as u8;
            if cap_len >= 16 && bar <= 5 {
                let loc = CapLocation { bar, offset: pcid.read_config(ptr + CAP_OFFSET), length: pcid.read_config(ptr + CAP_LENGTH) };
                match cfg_type {
                    PCI_CAP_COMMON_CFG if caps.common.is_none() => caps.common = Some(loc),
                    PCI_CAP_NOTIFY_CFG if caps.notify.is_none() && cap_len >= 20 => {
                        caps.notify = Some(loc);
                        caps.notify_off_multiplier = pcid.read_config(ptr + CAP_NOTIFY_OFF_MULTIPLIER);
                    }
                    PCI_CAP_ISR_CFG if caps.isr.is_none() => caps.isr = Some(loc),
                    PCI_CAP_DEVICE_CFG if caps.device.is_none() => caps.device = Some(loc),
                    _ => {}
                }
            }
        }
        ptr = next;
    }
    Ok(caps)
}

/// A window of a mapped BAR (one virtio structure); accesses are bounds-checked against its length.
pub struct Region {
    bar: Arc<Mmio>,
    offset: usize,
    len: usize,
}

impl Region {
    fn new(bar: Arc<Mmio>, loc: CapLocation, what: &str) -> Result<Region> {
        let (offset, len) = (loc.offset as usize, loc.length as usize);
        if offset.checked_add(len).map_or(true, |end| end > bar.size()) {
            error!("virtio: {} structure at BAR{}+{:#x} ({:#x} bytes) is outside the {:#x}-byte BAR", what, loc.bar, offset, len, bar.size());
            return Err(Error::new(ENODEV));
        }
        Ok(Region { bar, offset, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn at(&self, off: usize, width: usize) -> usize {
        assert!(off + width <= self.len, "virtio: {}-byte access at +{:#x} outside a {:#x}-byte structure", width, off, self.len);
        self.offset + off
    }

    pub fn read8(&self, off: usize) -> u8 {
        self.bar.read8(self.at(off, 1))
    }
    pub fn read16(&self, off: usize) -> u16 {
        self.bar.read16(self.at(off, 2))
    }
    pub fn read32(&self, off: usize) -> u32 {
        self.bar.read32(self.at(off, 4))
    }
    /// A 64-bit field as two 32-bit reads, low first (4.1.3.1).
    pub fn read64(&self, off: usize) -> u64 {
        self.read32(off) as u64 | ((self.read32(off + 4) as u64) << 32)
    }
    pub fn write8(&self, off: usize, v: u8) {
        self.bar.write8(self.at(off, 1), v)
    }
    pub fn write16(&self, off: usize, v: u16) {
        self.bar.write16(self.at(off, 2), v)
    }
    pub fn write32(&self, off: usize, v: u32) {
        self.bar.write32(self.at(off, 4), v)
    }
    /// A 64-bit field as two 32-bit writes, low first.
    pub fn write64(&self, off: usize, v: u64) {
        self.write32(off, v as u32);
        self.write32(off + 4, (v >> 32) as u32);
    }
}

/// What a read of the ISR status said (4.1.4.5); reading it clears it and deasserts INTx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isr(pub u8);

impl Isr {
    /// A used buffer notification (some queue has new used entries).
    pub fn queue(self) -> bool {
        self.0 & ISR_QUEUE != 0
    }
    /// A configuration change notification (also DEVICE_NEEDS_RESET).
    pub fn config(self) -> bool {
        self.0 & ISR_CONFIG != 0
    }
}

/// A virtio device on the modern PCI transport.
pub struct Transport {
    common: Region,
    notify: Region,
    notify_off_multiplier: u32,
    isr: Region,
    device: Option<Region>,
}

impl Transport {
    /// Finds the virtio structures (common, notify, ISR required; device
    /// configuration if present) and maps the BARs holding them.
    pub fn probe(pcid: &mut PciFunctionHandle) -> Result<Transport> {
        let caps = find_capabilities(pcid)?;
        let (common, notify, isr) = match (caps.common, caps.notify, caps.isr) {
            (Some(c), Some(n), Some(i)) => (c, n, i),
            _ => {
                error!("virtio: missing capabilities (common {}, notify {}, ISR {}): not a modern virtio device",
                    caps.common.is_some(), caps.notify.is_some(), caps.isr.is_some());
                return Err(Error::new(ENODEV));
            }
        };
        let mut bars: Vec<(u8, Arc<Mmio>)> = Vec::new();
        let mut bar = |pcid: &mut PciFunctionHandle, n: u8| -> Result<Arc<Mmio>> {
            if let Some((_, m)) = bars.iter().find(|(b, _)| *b == n) {
                return Ok(m.clone());
            }
            let m = Arc::new(pcid.map_bar(n).map_err(|e| {
                error!("virtio: cannot map BAR{}: {}", n, e);
                e
            })?);
            bars.push((n, m.clone()));
            Ok(m)
        };
        let common = Region::new(bar(pcid, common.bar)?, common, "common configuration")?;
        if common.len() < COMMON_QUEUE_NOTIFY_DATA {
            error!("virtio: common configuration is only {} bytes", common.len());
            return Err(Error::new(ENODEV));
        }
        let notify = Region::new(bar(pcid, notify.bar)?, notify, "notify")?;
        let isr = Region::new(bar(pcid, isr.bar)?, isr, "ISR")?;
        let device = match caps.device {
            Some(d) => Some(Region::new(bar(pcid, d.bar)?, d, "device configuration")?),
            None => None,
        };
        Ok(Transport { common, notify, notify_off_multiplier: caps.notify_off_multiplier, isr, device })
    }

    pub fn notify_off_multiplier(&self) -> u32 {
        self.notify_off_multiplier
    }

    // ---- status (2.1, 3.1.1)

    pub fn status(&self) -> u8 {
        self.common.read8(COMMON_DEVICE_STATUS)
    }

    /// Sets `bits` in device_status (the others stay: only a reset clears bits).
    pub fn add_status(&self, bits: u8) {
        let s = self.status();
        self.common.write8(COMMON_DEVICE_STATUS, s | bits);
    }

    /// Resets the device (writes 0) and waits until device_status reads 0 (4.1.4.3.2), polling every 10 µs.
    pub fn reset(&self, timeout: Duration) -> Result<()> {
        self.common.write8(COMMON_DEVICE_STATUS, 0);
        let deadline = Instant::now().checked_add(timeout).unwrap();
        loop {
            let s = self.status();
            if s == 0 {
                return Ok(());
            }
            if s == 0xff {
                error!("virtio: device_status reads 0xff: device gone");
                return Err(Error::new(EIO));
            }
            if Instant::now() > deadline {
                error!("virtio: reset not complete after {} ms (device_status {:#x})", timeout.as_millis(), s);
                return Err(Error::new(ETIMEDOUT));
            }
            time::sleep_us(10);
        }
    }

    /// Steps 1-3 of 3.1.1: reset, ACKNOWLEDGE, DRIVER.
    pub fn begin_init(&self, reset_timeout: Duration) -> Result<()> {
        self.reset(reset_timeout)?;
        self.common.write8(COMMON_DEVICE_STATUS, STATUS_ACKNOWLEDGE);
        self.common.write8(COMMON_DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        Ok(())
    }

    /// The device's 64 feature bits (words 0 and 1 of device_feature).
    pub fn device_features(&self) -> u64 {
        let mut f = 0u64;
        for word in 0..2u32 {
            self.common.write32(COMMON_DEVICE_FEATURE_SELECT, word);
            f |= (self.common.read32(COMMON_DEVICE_FEATURE) as u64) << (32 * word);
        }
        f
    }

    fn write_driver_features(&self, f: u64) {
        for word in 0..2u32 {
            self.common.write32(COMMON_DRIVER_FEATURE_SELECT, word);
            self.common.write32(COMMON_DRIVER_FEATURE, (f >> (32 * word)) as u32);
        }
    }

    /// Steps 4-6 of 3.1.1: accepts `wanted` ∩ offered (plus VERSION_1, which
    /// a modern device must offer), sets FEATURES_OK and reads it back. A
    /// device without VERSION_1 or one of `required`, or refusing the set,
    /// gets FAILED and the error is ENODEV. Returns the negotiated features.
    pub fn negotiate(&self, wanted: u64, required: u64) -> Result<u64> {
        let offered = self.device_features();
        let required = required | F_VERSION_1;
        if offered & required != required {
            error!("virtio: device does not offer required features {:#x} (offers {:#x})", required & !offered, offered);
            self.fail();
            return Err(Error::new(ENODEV));
        }
        let features = offered & (wanted | required);
        self.write_driver_features(features);
        self.add_status(STATUS_FEATURES_OK);
        if self.status() & STATUS_FEATURES_OK == 0 {
            error!("virtio: device refused features {:#x} (FEATURES_OK did not stick)", features);
            self.fail();
            return Err(Error::new(ENODEV));
        }
        Ok(features)
    }

    /// Step 8 of 3.1.1: the driver is ready; the device may use its queues.
    pub fn driver_ok(&self) {
        self.add_status(STATUS_DRIVER_OK);
    }

    /// Sets FAILED (3.1.1: something went wrong; the driver gave up on the device).
    pub fn fail(&self) {
        self.add_status(STATUS_FAILED);
    }

    /// Whether the device set DEVICE_NEEDS_RESET (2.1.1): it processes nothing until reset.
    pub fn needs_reset(&self) -> bool {
        self.status() & STATUS_DEVICE_NEEDS_RESET != 0
    }

    pub fn num_queues(&self) -> u16 {
        self.common.read16(COMMON_NUM_QUEUES)
    }

    // ---- interrupts

    /// Maps configuration change notifications to MSI-X table entry
    /// `vector` (MSI_NO_VECTOR: none) and reads it back: a device that cannot
    /// map it reads MSI_NO_VECTOR (4.1.5.1.2), an error (EIO).
    pub fn set_config_vector(&self, vector: u16) -> Result<()> {
        self.common.write16(COMMON_CONFIG_MSIX_VECTOR, vector);
        let got = self.common.read16(COMMON_CONFIG_MSIX_VECTOR);
        if got != vector {
            error!("virtio: config_msix_vector {} not mapped (reads {:#x})", vector, got);
            return Err(Error::new(EIO));
        }
        Ok(())
    }

    /// Reads (and so clears) the ISR status: with INTx, what the interrupt was for; it also deasserts the line.
    pub fn read_isr(&self) -> Isr {
        Isr(self.isr.read8(0))
    }

    // ---- device configuration (2.5, 4.1.4.6)

    pub fn config_generation(&self) -> u8 {
        self.common.read8(COMMON_CONFIG_GENERATION)
    }

    /// The device configuration structure (None if the device has none).
    pub fn device_config(&self) -> Option<&Region> {
        self.device.as_ref()
    }

    /// Reads device configuration consistently (2.5.1): `f` runs until
    /// config_generation is the same before and after it.
    pub fn read_config<T, F: Fn(&Region) -> T>(&self, f: F) -> Result<T> {
        let dev = match self.device.as_ref() {
            Some(d) => d,
            None => {
                error!("virtio: the device has no device configuration structure");
                return Err(Error::new(ENODEV));
            }
        };
        for _ in 0..100 {
            let before = self.config_generation();
            let v = f(dev);
            if self.config_generation() == before {
                return Ok(v);
            }
        }
        error!("virtio: config_generation keeps changing while reading the device configuration");
        Err(Error::new(EIO))
    }

    // ---- queues (4.1.4.3, 4.1.4.4)

    pub(crate) fn common(&self) -> &Region {
        &self.common
    }

    /// Byte offset in the notify structure of a queue with `queue_notify_off`.
    pub(crate) fn notify_offset(&self, queue_notify_off: u16) -> Result<usize> {
        let off = queue_notify_off as usize * self.notify_off_multiplier as usize;
        if off + 2 > self.notify.len() {
            error!("virtio: queue_notify_off {} x {} is outside the {}-byte notify structure", queue_notify_off, self.notify_off_multiplier, self.notify.len());
            return Err(Error::new(ENODEV));
        }
        Ok(off)
    }

    /// A driver notification (4.1.5.2): the queue's index, 16 bits, at its notify address.
    pub(crate) fn notify_at(&self, offset: usize, queue: u16) {
        self.notify.write16(offset, queue);
    }
}
