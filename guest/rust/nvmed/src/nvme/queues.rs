//! Submission and completion queues in DMA memory (NVMe 1.4, 4.1 and 4.6),
//! with the driver's tail, head and phase bookkeeping (as Redox's
//! nvmed/src/nvme/queues.rs). A queue pair hands out command ids: one per
//! entry but one, so a full queue is never mistaken for an empty one.

use alloc::vec::Vec;
use core::ptr;

use redox_driver::{Dma, Mmio, Result};

use super::cmd::NvmeCmd;
use super::regs::DOORBELLS;

/// A completion queue entry (4.6).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NvmeComp {
    pub dw0: u32,
    pub _rsvd: u32,
    pub sq_head: u16,
    pub sq_id: u16,
    pub cid: u16,
    /// Bit 0: phase tag; bits 15:1: status (SCT, SC).
    pub status: u16,
}

const _: () = assert!(core::mem::size_of::<NvmeComp>() == 16);

impl NvmeComp {
    pub fn status_code(&self) -> u16 {
        self.status >> 1
    }
}

pub struct QueuePair {
    pub qid: u16,
    pub depth: u16,
    sq: Dma<[NvmeCmd]>,
    cq: Dma<[NvmeComp]>,
    sq_tail: u16,
    cq_head: u16,
    phase: bool,
    sq_doorbell: usize,
    cq_doorbell: usize,
    free_cids: Vec<u16>,
}

impl QueuePair {
    pub fn new(qid: u16, depth: u16, dstrd: u32) -> Result<QueuePair> {
        let sq = unsafe { Dma::<NvmeCmd>::zeroed_slice(depth as usize)?.assume_init() };
        let cq = unsafe { Dma::<NvmeComp>::zeroed_slice(depth as usize)?.assume_init() };
        let stride = 4usize << dstrd;
        Ok(QueuePair {
            qid, depth, sq, cq, sq_tail: 0, cq_head: 0, phase: true,
            sq_doorbell: DOORBELLS + 2 * qid as usize * stride,
            cq_doorbell: DOORBELLS + (2 * qid as usize + 1) * stride,
            free_cids: (0..depth - 1).rev().collect(),
        })
    }

    pub fn sq_phys(&self) -> u64 {
        self.sq.physical()
    }

    pub fn cq_phys(&self) -> u64 {
        self.cq.physical()
    }

    pub fn free_slots(&self) -> usize {
        self.free_cids.len()
    }

    pub fn alloc_cid(&mut self) -> Option<u16> {
        self.free_cids.pop()
    }

    pub fn release_cid(&mut self, cid: u16) {
        self.free_cids.push(cid);
    }

    /// Writes `cmd` with command id `cid` at the tail (the doorbell is rung separately, once per batch).
    pub fn push(&mut self, mut cmd: NvmeCmd, cid: u16) {
        cmd.cid = cid;
        let i = self.sq_tail as usize;
        // Volatile: the device reads the entry by DMA once the doorbell says so.
        unsafe { ptr::write_volatile(&mut self.sq[i], cmd) };
        self.sq_tail = (self.sq_tail + 1) % self.depth;
    }

    pub fn ring_sq(&self, bar: &Mmio) {
        bar.write32(self.sq_doorbell, self.sq_tail as u32);
    }

    /// The completion at the head if the device posted it (its phase tag is current).
    pub fn peek(&self) -> Option<NvmeComp> {
        // Volatile: the device writes the entry by DMA.
        let c = unsafe { ptr::read_volatile(&self.cq[self.cq_head as usize]) };
        if ((c.status & 1) != 0) == self.phase { Some(c) } else { None }
    }

    pub fn pop(&mut self) {
        self.cq_head += 1;
        if self.cq_head == self.depth {
            self.cq_head = 0;
            self.phase = !self.phase;
        }
    }

    pub fn ring_cq(&self, bar: &Mmio) {
        bar.write32(self.cq_doorbell, self.cq_head as u32);
    }

    /// Takes every posted completion into `out` and rings the CQ head doorbell once; returns how many.
    pub fn reap(&mut self, bar: &Mmio, out: &mut Vec<NvmeComp>) -> usize {
        let mut n = 0;
        while let Some(c) = self.peek() {
            self.pop();
            out.push(c);
            n += 1;
        }
        if n > 0 {
            self.ring_cq(bar);
        }
        n
    }
}
