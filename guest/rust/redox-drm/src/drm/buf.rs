//! The call buffer: the client's argument structure, copied in whole, read
//! and written at Linux's offsets, copied back whole on success. `…_ptr`
//! fields are offsets into the same buffer (docs/DRM-SCHEME.md).

use alloc::vec::Vec;

use redox_driver::{Error, Result};

use super::uapi::EFAULT;

pub struct CallBuf {
    pub b: Vec<u8>,
}

impl CallBuf {
    pub fn new(b: Vec<u8>) -> CallBuf {
        CallBuf { b }
    }
    pub fn u32(&self, off: usize) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&self.b[off..off + 4]);
        u32::from_le_bytes(a)
    }
    pub fn u64(&self, off: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.b[off..off + 8]);
        u64::from_le_bytes(a)
    }
    pub fn put_u32(&mut self, off: usize, v: u32) {
        self.b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    pub fn put_u64(&mut self, off: usize, v: u64) {
        self.b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&self, off: usize, len: usize) -> &[u8] {
        &self.b[off..off + len]
    }
    pub fn put_bytes(&mut self, off: usize, src: &[u8]) {
        self.b[off..off + src.len()].copy_from_slice(src);
    }

    /// Checks that `count` elements of `size` bytes fit at buffer offset `ptr`
    /// (`-EFAULT` if not: the array would run past the buffer). `ptr` 0 with a
    /// non-zero count is also `-EFAULT` (Linux: a NULL user pointer).
    pub fn check_array(&self, ptr: u64, count: usize, size: usize) -> Result<usize> {
        if count == 0 {
            return Ok(ptr as usize);
        }
        let end = (ptr as u128) + (count as u128) * (size as u128);
        if ptr == 0 || end > self.b.len() as u128 {
            return Err(Error::new(EFAULT));
        }
        Ok(ptr as usize)
    }

    /// Writes up to `room` u32 values of `vals` at `ptr` (checked first).
    pub fn put_u32_array(&mut self, ptr: u64, room: u32, vals: &[u32]) -> Result<()> {
        let n = vals.len().min(room as usize);
        let at = self.check_array(ptr, n, 4)?;
        for (i, v) in vals[..n].iter().enumerate() {
            self.put_u32(at + 4 * i, *v);
        }
        Ok(())
    }

    pub fn put_u64_array(&mut self, ptr: u64, room: u32, vals: &[u64]) -> Result<()> {
        let n = vals.len().min(room as usize);
        let at = self.check_array(ptr, n, 8)?;
        for (i, v) in vals[..n].iter().enumerate() {
            self.put_u64(at + 8 * i, *v);
        }
        Ok(())
    }

    /// Reads `count` u32 values at `ptr`.
    pub fn u32_array(&self, ptr: u64, count: usize) -> Result<Vec<u32>> {
        let at = self.check_array(ptr, count, 4)?;
        Ok((0..count).map(|i| self.u32(at + 4 * i)).collect())
    }

    pub fn u64_array(&self, ptr: u64, count: usize) -> Result<Vec<u64>> {
        let at = self.check_array(ptr, count, 8)?;
        Ok((0..count).map(|i| self.u64(at + 8 * i)).collect())
    }
}
