//! The PCI function a driver was started for, through its pcid handle
//! (Redox: `pcid_interface::PciFunctionHandle`): identity and BARs, config
//! space, enabling the device, mapping BARs, interrupt vectors.

use alloc::vec::Vec;
use core::mem;

use crate::error::{Error, Result, EINVAL, ENODEV};
use crate::irq::{Irq, IrqKind};
use crate::mmio::Mmio;
use crate::sys::{self, RawPciInfo};

/// A BAR as pcid reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PciBar {
    None,
    Memory32 { addr: u64, size: u64 },
    Memory64 { addr: u64, size: u64 },
    Port { port: u16, size: u64 },
}

impl PciBar {
    pub fn is_memory(&self) -> bool {
        matches!(self, PciBar::Memory32 { .. } | PciBar::Memory64 { .. })
    }
}

/// What pcid knows about the function (Redox: `PciFunction`).
#[derive(Clone, Debug)]
pub struct PciFunction {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    pub vendor: u16,
    pub device: u16,
    /// Class, subclass, programming interface.
    pub class: u32,
    pub revision: u8,
    pub subsystem_vendor: u16,
    pub subsystem: u16,
    pub legacy_interrupt_line: u8,
    pub legacy_interrupt_pin: u8,
    pub bars: [PciBar; 6],
    pub has_msi: bool,
    pub has_msix: bool,
}

impl PciFunction {
    /// "bb:dd.f"
    pub fn name(&self) -> alloc::string::String {
        alloc::format!("{:02x}:{:02x}.{}", self.bus, self.dev, self.func)
    }
}

/// The driver's channel to pcid for its function.
pub struct PciFunctionHandle {
    func: PciFunction,
}

impl PciFunctionHandle {
    /// The handle pcid-spawner passed to this driver (Redox: `connect_default`).
    pub fn connect_default() -> PciFunctionHandle {
        let mut raw = RawPciInfo::default();
        unsafe { sys::pci_config(&mut raw, mem::size_of::<RawPciInfo>()) };
        let mut bars = [PciBar::None; 6];
        for (i, b) in raw.bars.iter().enumerate() {
            let addr = b.addr_lo as u64 | ((b.addr_hi as u64) << 32);
            let size = b.size_lo as u64 | ((b.size_hi as u64) << 32);
            bars[i] = match b.kind {
                1 => PciBar::Memory32 { addr, size },
                2 => PciBar::Memory64 { addr, size },
                3 => PciBar::Port { port: addr as u16, size },
                _ => PciBar::None,
            };
        }
        PciFunctionHandle {
            func: PciFunction {
                bus: raw.bus, dev: raw.dev, func: raw.func,
                vendor: raw.vendor, device: raw.device, class: raw.class, revision: raw.revision,
                subsystem_vendor: raw.subsystem_vendor, subsystem: raw.subsystem,
                legacy_interrupt_line: raw.irq_line, legacy_interrupt_pin: raw.irq_pin,
                bars, has_msi: raw.caps & 1 != 0, has_msix: raw.caps & 2 != 0,
            },
        }
    }

    pub fn config(&self) -> &PciFunction {
        &self.func
    }

    /// Memory and I/O decode for its BARs, and bus mastering.
    pub fn enable_device(&mut self) -> Result<()> {
        Error::demux(unsafe { sys::pci_enable_device() }).map(|_| ())
    }

    pub fn read_config(&self, offset: u16) -> u32 {
        unsafe { sys::pci_read_config(offset as u32) }
    }

    pub fn write_config(&mut self, offset: u16, value: u32) {
        unsafe { sys::pci_write_config(offset as u32, value) };
    }

    /// Maps memory BAR `bar` uncached.
    pub fn map_bar(&mut self, bar: u8) -> Result<Mmio> {
        let mut size = 0usize;
        let base = unsafe { sys::pci_map_bar(bar as u32, &mut size) };
        if base == 0 { return Err(Error::new(EINVAL)); }
        Ok(unsafe { Mmio::from_raw(base, size) })
    }

    /// MSI-X table entries, if the function has MSI-X.
    pub fn msix_table_size(&self) -> Option<u16> {
        let n = unsafe { sys::pci_msix_table_size() };
        if n > 0 { Some(n as u16) } else { None }
    }

    /// Programs `count` MSI-X vectors (each a fresh `irq:` MSI handle) and enables MSI-X.
    pub fn enable_msix(&mut self, count: u16) -> Result<Vec<Irq>> {
        let mut handles: Vec<u32> = alloc::vec![0; count as usize];
        let n = Error::demux(unsafe { sys::pci_enable_msix(count as u32, handles.as_mut_ptr()) })?;
        Ok(handles[..n].iter().map(|&h| Irq::from_raw(h, IrqKind::Msi)).collect())
    }

    /// Single-message MSI.
    pub fn enable_msi(&mut self) -> Result<Irq> {
        if !self.func.has_msi { return Err(Error::new(ENODEV)); }
        let h = Error::demux(unsafe { sys::pci_enable_msi() })?;
        Ok(Irq::from_raw(h as u32, IrqKind::Msi))
    }

    /// The legacy INTx line (level-triggered; `ack` after each interrupt).
    pub fn legacy_irq(&mut self) -> Result<Irq> {
        let h = Error::demux(unsafe { sys::pci_legacy_irq() })?;
        Ok(Irq::from_raw(h as u32, IrqKind::Legacy))
    }
}
