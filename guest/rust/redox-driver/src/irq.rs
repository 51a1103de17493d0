//! `irq:` handles: an MSI/MSI-X vector or a legacy line. A thread waits on
//! one (`wait` blocks); a legacy line stays masked after each interrupt
//! until the driver acknowledges it (`ack`), as on Redox.

use crate::error::{Error, Result};
use crate::sys;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqKind {
    Legacy,
    Msi,
}

/// An open `irq:` handle.
#[derive(Debug)]
pub struct Irq {
    handle: u32,
    kind: IrqKind,
}

impl Irq {
    pub(crate) fn from_raw(handle: u32, kind: IrqKind) -> Irq {
        Irq { handle, kind }
    }

    pub fn kind(&self) -> IrqKind {
        self.kind
    }

    /// Blocks until the interrupt fires; returns how many fired since the last wait.
    pub fn wait(&self) -> Result<u32> {
        Error::demux(unsafe { sys::irq_wait(self.handle) }).map(|n| n as u32)
    }

    /// Ends a legacy interrupt (unmasks the line); nothing for MSI.
    pub fn ack(&self) -> Result<()> {
        if self.kind == IrqKind::Legacy {
            Error::demux(unsafe { sys::irq_ack(self.handle) })?;
        }
        Ok(())
    }
}
