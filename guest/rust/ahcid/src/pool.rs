//! Bounce buffers for commands: DMA buffers of 1, 2, 4 ... pages up to the
//! largest transfer, kept for reuse when a command completes, so the I/O
//! path allocates nothing in steady state.

use alloc::vec::Vec;

use redox_driver::{Dma, DmaBuffer, PAGE_SIZE};

pub struct BufferPool {
    /// Free buffers of 2^k pages, by k.
    free: Vec<Vec<DmaBuffer>>,
}

fn order(len: usize) -> usize {
    let pages = (len.max(1) + PAGE_SIZE - 1) / PAGE_SIZE;
    pages.next_power_of_two().trailing_zeros() as usize
}

impl BufferPool {
    pub fn new(max_bytes: usize) -> BufferPool {
        BufferPool { free: (0..=order(max_bytes)).map(|_| Vec::new()).collect() }
    }

    /// A physically contiguous buffer of at least `len` bytes; None when the driver's memory is exhausted.
    pub fn take(&mut self, len: usize) -> Option<DmaBuffer> {
        let k = order(len);
        match self.free.get_mut(k).and_then(|f| f.pop()) {
            Some(b) => Some(b),
            None => Dma::buffer(PAGE_SIZE << k).ok(),
        }
    }

    pub fn give(&mut self, buf: DmaBuffer) {
        let k = order(buf.allocated());
        if let Some(f) = self.free.get_mut(k) {
            f.push(buf);
        }
    }
}
