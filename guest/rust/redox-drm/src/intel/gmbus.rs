//! EDID over GMBUS, the sequence of the facts sheet (B6) and Linux's
//! intel_gmbus.c: a 1-byte probe read, then the 128-byte base block in one
//! indexed read cycle, each dword waited for (HW_RDY or SATOER, 50 ms), then
//! the wait phase, STOP and ACTIVE clear (10 ms), GMBUS0 = 0. A NAK (SATOER)
//! clears the controller (SW_CLR_INT) and the transfer is tried once more.

use core::time::Duration;

use redox_driver::{debug, warn, Error, Mmio, Result, EIO, ETIMEDOUT};

use super::regs::*;
use super::wait::wait_for;

/// Why a transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XferError {
    /// Nothing answered (SATOER).
    Nak,
    /// A bit did not come in time; the register named.
    Timeout(&'static str),
}

impl XferError {
    pub fn errno(&self) -> Error {
        match self {
            XferError::Nak => Error::new(EIO),
            XferError::Timeout(_) => Error::new(ETIMEDOUT),
        }
    }
}

const RDY_TIMEOUT: Duration = Duration::from_millis(50);
const IDLE_TIMEOUT: Duration = Duration::from_millis(10);

/// Waits for HW_RDY (or SATOER) after a dword.
fn wait_rdy(m: &Mmio) -> core::result::Result<(), XferError> {
    let mut st = 0;
    if !wait_for(RDY_TIMEOUT, || {
        st = m.read32(GMBUS2);
        st & (GMBUS_HW_RDY | GMBUS_SATOER) != 0
    }) {
        return Err(XferError::Timeout("GMBUS2.HW_RDY"));
    }
    if st & GMBUS_SATOER != 0 {
        return Err(XferError::Nak);
    }
    Ok(())
}

/// One read of `out.len()` bytes at `index` from DDC address `addr`, ended with STOP.
fn read_once(m: &Mmio, pin: u32, addr: u32, index: u8, out: &mut [u8]) -> core::result::Result<(), XferError> {
    m.write32(GMBUS0, pin | GMBUS_RATE_100KHZ);
    m.write32(GMBUS1, GMBUS_SW_RDY | GMBUS_CYCLE_INDEX | GMBUS_CYCLE_WAIT | ((out.len() as u32) << GMBUS_BYTE_COUNT_SHIFT)
        | ((index as u32) << GMBUS_SLAVE_INDEX_SHIFT) | (addr << 1) | GMBUS_SLAVE_READ);
    let mut at = 0;
    while at < out.len() {
        wait_rdy(m)?;
        let v = m.read32(GMBUS3);
        for k in 0..4 {
            if at < out.len() {
                out[at] = (v >> (8 * k)) as u8;
                at += 1;
            }
        }
    }
    let mut st = 0;
    if !wait_for(RDY_TIMEOUT, || {
        st = m.read32(GMBUS2);
        st & (GMBUS_HW_WAIT_PHASE | GMBUS_SATOER) != 0
    }) {
        return Err(XferError::Timeout("GMBUS2.HW_WAIT_PHASE"));
    }
    if st & GMBUS_SATOER != 0 {
        return Err(XferError::Nak);
    }
    m.write32(GMBUS1, GMBUS_SW_RDY | GMBUS_CYCLE_STOP);
    if !wait_for(IDLE_TIMEOUT, || m.read32(GMBUS2) & GMBUS_ACTIVE == 0) {
        m.write32(GMBUS0, 0);
        return Err(XferError::Timeout("GMBUS2.ACTIVE"));
    }
    m.write32(GMBUS0, 0);
    Ok(())
}

/// After a NAK: wait for the bus to go idle, clear the controller, release the pins.
fn recover(m: &Mmio) {
    if !wait_for(IDLE_TIMEOUT, || m.read32(GMBUS2) & GMBUS_ACTIVE == 0) {
        warn!("gmbus: GMBUS2.ACTIVE still set 10 ms after a NAK");
    }
    m.write32(GMBUS1, GMBUS_SW_CLR_INT);
    m.write32(GMBUS1, 0);
    m.write32(GMBUS0, 0);
}

/// A read with one retry after a NAK.
fn read(m: &Mmio, pin: u32, addr: u32, index: u8, out: &mut [u8]) -> core::result::Result<(), XferError> {
    let mut tries = 0;
    loop {
        match read_once(m, pin, addr, index, out) {
            Ok(()) => return Ok(()),
            Err(XferError::Nak) => {
                recover(m);
                tries += 1;
                if tries > 1 {
                    return Err(XferError::Nak);
                }
                debug!("gmbus pin {}: NAK from {:#x}, retrying", pin, addr);
            }
            Err(e) => {
                // A timeout leaves the controller in an unknown phase: clear it as after a NAK.
                recover(m);
                return Err(e);
            }
        }
    }
}

/// The EDID base block of the monitor on `port`, if it answers.
pub fn read_edid(m: &Mmio, port: u32) -> Result<[u8; 128]> {
    let pin = gmbus_pin(port);
    let mut probe = [0u8; 1];
    if let Err(e) = read(m, pin, DDC_ADDR, 0, &mut probe) {
        debug!("gmbus pin {}: DDC probe failed: {:?}", pin, e);
        if let XferError::Timeout(r) = e {
            warn!("gmbus pin {}: timeout waiting for {}", pin, r);
        }
        return Err(e.errno());
    }
    let mut block = [0u8; 128];
    match read(m, pin, DDC_ADDR, 0, &mut block) {
        Ok(()) => Ok(block),
        Err(e) => {
            match e {
                XferError::Timeout(r) => warn!("gmbus pin {}: EDID read: timeout waiting for {}", pin, r),
                XferError::Nak => warn!("gmbus pin {}: EDID read: NAK (twice)", pin),
            }
            Err(e.errno())
        }
    }
}
