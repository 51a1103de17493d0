//! Interrupts of a virtio PCI device (4.1.5.1.2-4.1.5.4): MSI-X with the
//! configuration change vector on table entry 0 and one entry per queue
//! after it (queues share entries when the table is smaller, all on entry 0
//! when it has one), or the legacy INTx line, whose handler reads the ISR
//! status to learn what happened (queue and/or configuration) and
//! deasserts the line by doing so.

use alloc::vec::Vec;

use redox_driver::error::ENODEV;
use redox_driver::{error, warn, Error, Irq, PciFunctionHandle, Result};

use crate::queue::VirtQueue;
use crate::spec::MSI_NO_VECTOR;
use crate::transport::Transport;

/// `irqMode` parameter values (a registry enum's index): auto (MSI-X if present, else INTx), msix, intx.
pub const IRQ_AUTO: i32 = 0;
pub const IRQ_MSIX: i32 = 1;
pub const IRQ_INTX: i32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterruptMethod {
    MsiX,
    Intx,
}

impl InterruptMethod {
    pub fn name(self) -> &'static str {
        match self {
            InterruptMethod::MsiX => "msix",
            InterruptMethod::Intx => "legacy",
        }
    }
}

/// The vectors a driver got and which virtio interrupt goes to which.
pub struct Interrupts {
    pub method: InterruptMethod,
    /// One `irq:` handle per MSI-X table entry in use (index = entry), or the INTx line; take them for the threads.
    pub irqs: Vec<Irq>,
    /// MSI-X entry of configuration changes (MSI_NO_VECTOR: none, or INTx).
    pub config_vector: u16,
    /// MSI-X entry of each queue (MSI_NO_VECTOR with INTx).
    pub queue_vectors: Vec<u16>,
}

/// Gets MSI-X vectors (1 + `queues` at most, as many as the table has) or
/// the INTx line, as `mode` (IRQ_AUTO, IRQ_MSIX, IRQ_INTX) allows.
pub fn setup_interrupts(pcid: &mut PciFunctionHandle, mode: i32, queues: u16) -> Result<Interrupts> {
    let func = pcid.config().clone();
    if (mode == IRQ_AUTO || mode == IRQ_MSIX) && func.has_msix {
        if let Some(size) = pcid.msix_table_size() {
            let irqs = pcid.enable_msix(size.min(queues + 1))?;
            let n = irqs.len() as u16;
            if n > 0 {
                let queue_vectors = (0..queues).map(|q| if n >= 2 { 1 + q % (n - 1) } else { 0 }).collect();
                return Ok(Interrupts { method: InterruptMethod::MsiX, irqs, config_vector: 0, queue_vectors });
            }
        }
    }
    if (mode == IRQ_AUTO || mode == IRQ_INTX) && func.legacy_interrupt_pin != 0 {
        let irq = pcid.legacy_irq()?;
        return Ok(Interrupts {
            method: InterruptMethod::Intx, irqs: alloc::vec![irq], config_vector: MSI_NO_VECTOR,
            queue_vectors: alloc::vec![MSI_NO_VECTOR; queues as usize],
        });
    }
    error!("virtio: no interrupt of the requested kind (irqMode {})", ["auto", "msix", "intx"].get(mode as usize).unwrap_or(&"?"));
    Err(Error::new(ENODEV))
}

impl Interrupts {
    /// Programs the device's vector mapping (MSI-X only): config_msix_vector
    /// and each queue's queue_msix_vector, read back. A queue whose entry the
    /// device refuses (reads MSI_NO_VECTOR) falls back to entry 0, shared
    /// with configuration changes; a refused configuration vector leaves
    /// configuration changes without an interrupt (logged).
    pub fn map_vectors(&mut self, t: &Transport, queues: &mut [VirtQueue]) -> Result<()> {
        if self.method != InterruptMethod::MsiX {
            return Ok(());
        }
        if t.set_config_vector(self.config_vector).is_err() {
            warn!("virtio: no configuration change interrupt (DEVICE_NEEDS_RESET is noticed by the request timeout only)");
            self.config_vector = MSI_NO_VECTOR;
        }
        for (i, q) in queues.iter_mut().enumerate() {
            let v = self.queue_vectors[i];
            if q.set_vector(t, v).is_ok() {
                continue;
            }
            if v != 0 && q.set_vector(t, 0).is_ok() {
                warn!("virtio: queue {} shares MSI-X vector 0", q.index());
                self.queue_vectors[i] = 0;
                continue;
            }
            error!("virtio: queue {} has no MSI-X vector", q.index());
            return Err(Error::new(ENODEV));
        }
        Ok(())
    }

    /// The queues (indices into the driver's queue list) vector `v` serves: each of its own (MSI-X), all with INTx.
    pub fn queues_of(&self, v: usize) -> Vec<usize> {
        match self.method {
            InterruptMethod::Intx => (0..self.queue_vectors.len()).collect(),
            InterruptMethod::MsiX => (0..self.queue_vectors.len()).filter(|&q| self.queue_vectors[q] as usize == v).collect(),
        }
    }

    /// Whether vector `v` carries configuration changes (always true for INTx: the ISR tells).
    pub fn serves_config(&self, v: usize) -> bool {
        match self.method {
            InterruptMethod::Intx => true,
            InterruptMethod::MsiX => self.config_vector as usize == v,
        }
    }
}
