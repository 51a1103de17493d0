//! Uncached device registers (Redox's `memory:physical@uc` mapping, read and
//! written with `Mmio<T>`). Here a mapping is a cookie above the module's
//! memory and every access is a call into the runtime, which charges it and
//! lets the device see it; dereferencing a cookie traps.

use crate::error::{Error, Result, EINVAL};
use crate::sys;

/// A mapped register window.
pub struct Mmio {
    base: usize,
    size: usize,
}

impl Mmio {
    /// Maps `size` bytes of device memory at physical address `phys`.
    pub fn map(phys: u64, size: usize) -> Result<Mmio> {
        let base = unsafe { sys::physmap(phys as u32, (phys >> 32) as u32, size) };
        if base == 0 { Err(Error::new(EINVAL)) } else { Ok(Mmio { base, size }) }
    }

    /// # Safety
    /// `base` must be a cookie the runtime returned for at least `size` bytes.
    pub unsafe fn from_raw(base: usize, size: usize) -> Mmio {
        Mmio { base, size }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    #[inline]
    fn at(&self, offset: usize, width: usize) -> usize {
        assert!(offset + width <= self.size && offset % width == 0,
            "MMIO access of {} bytes at offset {:#x} outside the {:#x}-byte mapping or unaligned", width, offset, self.size);
        self.base + offset
    }

    pub fn read8(&self, offset: usize) -> u8 {
        unsafe { sys::mmio_read8(self.at(offset, 1)) as u8 }
    }
    pub fn read16(&self, offset: usize) -> u16 {
        unsafe { sys::mmio_read16(self.at(offset, 2)) as u16 }
    }
    pub fn read32(&self, offset: usize) -> u32 {
        unsafe { sys::mmio_read32(self.at(offset, 4)) }
    }
    /// A 64-bit register as two dword reads, low first.
    pub fn read64(&self, offset: usize) -> u64 {
        let lo = self.read32(offset) as u64;
        let hi = self.read32(offset + 4) as u64;
        lo | (hi << 32)
    }
    pub fn write8(&self, offset: usize, value: u8) {
        unsafe { sys::mmio_write8(self.at(offset, 1), value as u32) }
    }
    pub fn write16(&self, offset: usize, value: u16) {
        unsafe { sys::mmio_write16(self.at(offset, 2), value as u32) }
    }
    pub fn write32(&self, offset: usize, value: u32) {
        unsafe { sys::mmio_write32(self.at(offset, 4), value) }
    }
    /// A 64-bit register as two dword writes, low first.
    pub fn write64(&self, offset: usize, value: u64) {
        self.write32(offset, value as u32);
        self.write32(offset + 4, (value >> 32) as u32);
    }
}

impl Drop for Mmio {
    fn drop(&mut self) {
        unsafe { sys::physunmap(self.base) }
    }
}

/// A typed register of a window: `const CSTS: Reg<u32> = Reg::new(0x1c);` then `CSTS.read(&bar)`.
pub struct Reg<T> {
    pub offset: usize,
    _t: core::marker::PhantomData<T>,
}

impl<T> Reg<T> {
    pub const fn new(offset: usize) -> Reg<T> {
        Reg { offset, _t: core::marker::PhantomData }
    }
}

impl Reg<u32> {
    pub fn read(&self, m: &Mmio) -> u32 { m.read32(self.offset) }
    pub fn write(&self, m: &Mmio, v: u32) { m.write32(self.offset, v) }
}

impl Reg<u64> {
    pub fn read(&self, m: &Mmio) -> u64 { m.read64(self.offset) }
    pub fn write(&self, m: &Mmio, v: u64) { m.write64(self.offset, v) }
}
