//! The global GTT: GPU addresses for buffers. A range allocator over the
//! GGTT's address space (first fit, 256 KiB aligned as Gen9 linear scanout
//! surfaces want), and the 64-bit PTEs at BAR0 + 8 MiB: `phys | 1` per 4 KiB
//! page, written as two dwords (low first), zeroed when the range is freed;
//! then GFX_FLSH_CNTL = 1 as i915 does.

use alloc::collections::BTreeMap;

use redox_driver::{Error, Mmio, Result, ENOSPC};

use super::regs::*;

pub struct Ggtt {
    /// Bytes of GPU address space (entries × 4 KiB).
    pub size: u64,
    /// Allocated ranges: start → length.
    used: BTreeMap<u32, u32>,
}

impl Ggtt {
    /// From GGC bits 7:6 (1/2/3 = 2/4/8 MiB of entries); the mapping holds at most `bar_room` bytes of entries.
    pub fn new(ggc: u32, bar_room: usize) -> Ggtt {
        let entries_bytes: u64 = match (ggc >> 6) & 3 {
            1 => 2 << 20,
            2 => 4 << 20,
            3 => 8 << 20,
            _ => 0,
        };
        let entries_bytes = entries_bytes.min(bar_room as u64);
        let mut g = Ggtt { size: (entries_bytes / 8) * 4096, used: BTreeMap::new() };
        // GPU address 0 stays unused: a SURF of 0 is never a buffer of ours.
        if g.size > 0 {
            g.used.insert(0, SURF_ALIGN);
        }
        g
    }

    /// Marks a range as used (the firmware's framebuffer).
    pub fn reserve(&mut self, start: u32, len: u32) {
        let s = start & !4095;
        let l = ((start - s) + len + 4095) & !4095;
        self.used.insert(s, l);
    }

    fn alloc(&mut self, len: u32) -> Result<u32> {
        let mut cand: u64 = 0;
        for (&s, &l) in &self.used {
            if cand + len as u64 <= s as u64 {
                break;
            }
            cand = ((s as u64 + l as u64) + SURF_ALIGN as u64 - 1) & !(SURF_ALIGN as u64 - 1);
        }
        if cand + len as u64 > self.size || cand + len as u64 > u32::MAX as u64 {
            return Err(Error::new(ENOSPC));
        }
        self.used.insert(cand as u32, len);
        Ok(cand as u32)
    }

    /// Maps `size` bytes of contiguous RAM at `phys`; returns the GPU address.
    pub fn map(&mut self, m: &Mmio, phys: u64, size: usize) -> Result<u32> {
        let len = ((size + 4095) & !4095) as u32;
        let gpu = self.alloc(len)?;
        for k in 0..(len / 4096) as u64 {
            m.write64(pte(gpu, k), (phys + k * 4096) | GGTT_PTE_PRESENT);
        }
        m.write32(GFX_FLSH_CNTL, 1);
        Ok(gpu)
    }

    /// A surface-aligned GPU address just past the last allocated range: no PTE maps it.
    pub fn unmapped_address(&self) -> u32 {
        let end = self.used.iter().map(|(&s, &l)| s as u64 + l as u64).max().unwrap_or(0);
        ((end + SURF_ALIGN as u64 - 1) & !(SURF_ALIGN as u64 - 1)).min(self.size.saturating_sub(SURF_ALIGN as u64)) as u32
    }

    pub fn unmap(&mut self, m: &Mmio, gpu: u32, size: usize) {
        let len = ((size + 4095) & !4095) as u32;
        for k in 0..(len / 4096) as u64 {
            m.write64(pte(gpu, k), 0);
        }
        m.write32(GFX_FLSH_CNTL, 1);
        self.used.remove(&gpu);
    }
}

fn pte(gpu: u32, k: u64) -> usize {
    GGTT_OFFSET + 8 * ((gpu as u64 >> 12) + k) as usize
}
