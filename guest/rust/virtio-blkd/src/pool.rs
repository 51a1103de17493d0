//! Bounce buffers for requests: DMA buffers of 1, 2, 4 ... pages up to
//! the largest transfer, kept for reuse once a request completes, so the I/O path allocates
//! nothing in steady state and memory follows what is in flight.

use alloc::vec::Vec;

use redox_driver::{Dma, DmaBuffer, PAGE_SIZE};

pub struct BufferPool {
    /// Free buffers of 2^k pages, by k.
    classes: Vec<Vec<DmaBuffer>>,
}

fn class_of(len: usize) -> usize {
    let pages = (len.max(1) + PAGE_SIZE - 1) / PAGE_SIZE;
    pages.next_power_of_two().trailing_zeros() as usize
}

impl BufferPool {
    pub fn new(max_bytes: usize) -> BufferPool {
        BufferPool { classes: (0..=class_of(max_bytes)).map(|_| Vec::new()).collect() }
    }

    /// A buffer of at least `len` bytes, or None when the driver's memory is exhausted.
    pub fn take(&mut self, len: usize) -> Option<DmaBuffer> {
        let k = class_of(len);
        if let Some(b) = self.classes.get_mut(k).and_then(|c| c.pop()) {
            return Some(b);
        }
        Dma::buffer(PAGE_SIZE << k).ok()
    }

    pub fn give(&mut self, buf: DmaBuffer) {
        let k = class_of(buf.allocated());
        if let Some(c) = self.classes.get_mut(k) {
            c.push(buf);
        }
    }
}
