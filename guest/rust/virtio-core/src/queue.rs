//! Split virtqueues, driver side (virtio 1.2 2.7): the descriptor table,
//! driver area (available ring) and device area (used ring) in DMA memory;
//! building descriptor chains (direct, or one indirect table per chain with
//! VIRTIO_F_INDIRECT_DESC, 2.7.5.3), making them available, notifying the
//! device unless it asked not to (2.7.10, with EVENT_IDX: avail_event), and
//! reaping the used ring with interrupt suppression (used_event or
//! NO_INTERRUPT).
//!
//! The driver keeps its own record of each chain (head, descriptor count,
//! links): it never trusts device-written memory to free descriptors, and a
//! used element naming a head that is not in flight is reported and dropped.
//!
//! Not thread-safe by itself: a driver keeps its queues behind a lock.

use alloc::vec::Vec;
use core::ptr;

use redox_driver::error::{EINVAL, ENOENT};
use redox_driver::{error, Dma, DmaBuffer, Error, Result};

use crate::spec::*;
use crate::transport::Transport;

/// struct virtq_desc (2.7.5).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Desc {
    pub addr: u64,
    pub len: u32,
    pub flags: u16,
    pub next: u16,
}

/// One buffer of a chain: physical address, length, and whether the device writes it.
#[derive(Clone, Copy, Debug)]
pub struct Buf {
    pub addr: u64,
    pub len: u32,
    pub device_writes: bool,
}

impl Buf {
    /// A buffer the device reads (driver to device).
    pub fn readable(addr: u64, len: u32) -> Buf {
        Buf { addr, len, device_writes: false }
    }
    /// A buffer the device writes (device to driver).
    pub fn writable(addr: u64, len: u32) -> Buf {
        Buf { addr, len, device_writes: true }
    }
}

/// A chain the device returned: its head (the token `add` gave) and the bytes it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    pub head: u16,
    pub len: u32,
}

/// The driver's record of a descriptor.
#[derive(Clone, Copy)]
struct DescState {
    /// Next descriptor: of the free list, or of the chain.
    next: u16,
    /// For a chain's head while in flight: descriptors it holds (0: not a head in flight).
    count: u16,
}

pub struct VirtQueue {
    index: u16,
    size: u16,
    desc: Dma<[Desc]>,
    avail: DmaBuffer,
    used: DmaBuffer,
    state: Vec<DescState>,
    free_head: u16,
    num_free: u16,
    /// The next avail.idx (what the driver published).
    avail_idx: u16,
    /// avail.idx at the last notification decision.
    kicked_idx: u16,
    /// used.idx the driver has reaped up to.
    last_used: u16,
    event_idx: bool,
    /// Indirect tables, `indirect_max` descriptors per head (VIRTIO_F_INDIRECT_DESC).
    indirect: Option<Dma<[Desc]>>,
    indirect_max: u16,
    notify_offset: usize,
    vector: u16,
    /// Interrupts suppressed by the driver (disable_interrupts).
    quiet: bool,
}

impl VirtQueue {
    /// Selects queue `index`, sizes it (its queue_size, at most `max_size`,
    /// rounded down to a power of 2), allocates and programs its rings, and
    /// finds its notify address. The queue is not enabled yet: map its
    /// vector (`set_vector`), then `enable`. With INDIRECT_DESC in
    /// `features` and `indirect_max` >= 2, chains of 2..=indirect_max
    /// buffers take one descriptor each.
    pub fn new(t: &Transport, index: u16, max_size: u16, features: u64, indirect_max: u16) -> Result<VirtQueue> {
        let c = t.common();
        c.write16(COMMON_QUEUE_SELECT, index);
        let dev_max = c.read16(COMMON_QUEUE_SIZE);
        if dev_max == 0 {
            error!("virtio: queue {} is not available (queue_size 0)", index);
            return Err(Error::new(ENOENT));
        }
        let want = max_size.min(dev_max).min(QUEUE_SIZE_MAX).max(1);
        let size = 1u16 << (15 - want.leading_zeros()); // the largest power of 2 <= want
        let desc = unsafe { Dma::<Desc>::zeroed_slice(size as usize)?.assume_init() };
        let avail = Dma::buffer(avail_bytes(size))?;
        let used = Dma::buffer(used_bytes(size))?;
        let indirect_max = if features & F_INDIRECT_DESC != 0 && indirect_max >= 2 { indirect_max } else { 0 };
        let indirect = if indirect_max > 0 {
            Some(unsafe { Dma::<Desc>::zeroed_slice(size as usize * indirect_max as usize)?.assume_init() })
        } else {
            None
        };
        let mut q = VirtQueue {
            index, size, desc, avail, used, state: Vec::new(), free_head: 0, num_free: 0, avail_idx: 0, kicked_idx: 0,
            last_used: 0, event_idx: features & F_EVENT_IDX != 0, indirect, indirect_max, notify_offset: 0,
            vector: MSI_NO_VECTOR, quiet: false,
        };
        q.program(t)?;
        Ok(q)
    }

    /// Empties the rings and the driver's records and writes size and
    /// addresses to the device (after `new`, or after a device reset, when
    /// every chain in flight is gone: the caller has failed their requests).
    fn program(&mut self, t: &Transport) -> Result<()> {
        for d in self.desc.iter_mut() {
            *d = Desc::default();
        }
        for b in self.avail.iter_mut() {
            *b = 0;
        }
        for b in self.used.iter_mut() {
            *b = 0;
        }
        let n = self.size;
        self.state = (0..n).map(|i| DescState { next: if i + 1 < n { i + 1 } else { 0 }, count: 0 }).collect();
        self.free_head = 0;
        self.num_free = n;
        self.avail_idx = 0;
        self.kicked_idx = 0;
        self.last_used = 0;
        self.quiet = false;
        let c = t.common();
        c.write16(COMMON_QUEUE_SELECT, self.index);
        c.write16(COMMON_QUEUE_SIZE, n);
        c.write64(COMMON_QUEUE_DESC, self.desc.physical());
        c.write64(COMMON_QUEUE_DRIVER, self.avail.physical());
        c.write64(COMMON_QUEUE_DEVICE, self.used.physical());
        let off = c.read16(COMMON_QUEUE_NOTIFY_OFF);
        self.notify_offset = t.notify_offset(off)?;
        Ok(())
    }

    /// After a device reset (and features negotiated again): rings emptied
    /// and reprogrammed, its vector mapped again; then `enable`.
    pub fn reinit(&mut self, t: &Transport) -> Result<()> {
        self.program(t)?;
        let v = self.vector;
        self.vector = MSI_NO_VECTOR;
        if v != MSI_NO_VECTOR {
            self.set_vector(t, v)?;
        }
        Ok(())
    }

    /// Maps the queue's used buffer notifications to MSI-X table entry
    /// `vector` and reads it back; a device that cannot map it reads
    /// MSI_NO_VECTOR (4.1.5.1.2): then the error is EINVAL and the queue has
    /// no vector (the driver may try another, e.g. a shared one, or poll).
    pub fn set_vector(&mut self, t: &Transport, vector: u16) -> Result<()> {
        let c = t.common();
        c.write16(COMMON_QUEUE_SELECT, self.index);
        c.write16(COMMON_QUEUE_MSIX_VECTOR, vector);
        let got = c.read16(COMMON_QUEUE_MSIX_VECTOR);
        self.vector = got;
        if got != vector {
            error!("virtio: queue {}: MSI-X vector {} not mapped (reads {:#x})", self.index, vector, got);
            return Err(Error::new(EINVAL));
        }
        Ok(())
    }

    /// queue_enable = 1 (the device may use the queue once DRIVER_OK is set).
    pub fn enable(&mut self, t: &Transport) {
        let c = t.common();
        c.write16(COMMON_QUEUE_SELECT, self.index);
        c.write16(COMMON_QUEUE_ENABLE, 1);
    }

    pub fn index(&self) -> u16 {
        self.index
    }
    pub fn size(&self) -> u16 {
        self.size
    }
    pub fn vector(&self) -> u16 {
        self.vector
    }
    pub fn num_free(&self) -> u16 {
        self.num_free
    }
    /// Longest chain that takes a single descriptor (0: no indirect descriptors).
    pub fn indirect_max(&self) -> u16 {
        self.indirect_max
    }
    pub fn event_idx(&self) -> bool {
        self.event_idx
    }
    /// Chains in flight (made available, not reaped).
    pub fn in_flight(&self) -> usize {
        self.state.iter().filter(|s| s.count > 0).count()
    }

    /// Descriptors a chain of `bufs` buffers takes.
    pub fn descriptors_for(&self, bufs: usize) -> u16 {
        if bufs > 1 && bufs <= self.indirect_max as usize { 1 } else { bufs as u16 }
    }

    /// Whether a chain of `bufs` buffers fits now.
    pub fn can_add(&self, bufs: usize) -> bool {
        bufs > 0 && self.descriptors_for(bufs) <= self.num_free
    }

    fn alloc_desc(&mut self) -> u16 {
        let i = self.free_head;
        self.free_head = self.state[i as usize].next;
        self.num_free -= 1;
        i
    }

    /// Builds a chain of `bufs` (device-readable ones first, 2.7.4.2) and
    /// makes it available. Returns its head (the token `pop_used` gives
    /// back), or None if the queue has no room. The device is not notified:
    /// call `kick_prepare` and `notify` once per batch.
    pub fn add(&mut self, bufs: &[Buf]) -> Option<u16> {
        if !self.can_add(bufs.len()) {
            return None;
        }
        let head;
        if bufs.len() > 1 && bufs.len() <= self.indirect_max as usize {
            head = self.alloc_desc();
            let per = self.indirect_max as usize;
            let table = self.indirect.as_mut().unwrap();
            let base = head as usize * per;
            for (i, b) in bufs.iter().enumerate() {
                let last = i + 1 == bufs.len();
                table[base + i] = Desc {
                    addr: b.addr, len: b.len,
                    flags: if b.device_writes { DESC_F_WRITE } else { 0 } | if last { 0 } else { DESC_F_NEXT },
                    next: if last { 0 } else { i as u16 + 1 },
                };
            }
            let addr = table.physical() + (base * DESC_SIZE) as u64;
            self.write_desc(head, Desc { addr, len: (bufs.len() * DESC_SIZE) as u32, flags: DESC_F_INDIRECT, next: 0 });
            self.state[head as usize].count = 1;
        } else {
            let n = bufs.len();
            let mut ids: [u16; 64] = [0; 64];
            let mut big: Vec<u16> = Vec::new();
            for i in 0..n {
                let d = self.alloc_desc();
                if n <= 64 { ids[i] = d } else { big.push(d) }
            }
            let ids: &[u16] = if n <= 64 { &ids[..n] } else { &big };
            for (i, b) in bufs.iter().enumerate() {
                let last = i + 1 == n;
                let next = if last { 0 } else { ids[i + 1] };
                self.write_desc(ids[i], Desc {
                    addr: b.addr, len: b.len,
                    flags: if b.device_writes { DESC_F_WRITE } else { 0 } | if last { 0 } else { DESC_F_NEXT },
                    next,
                });
                self.state[ids[i] as usize].next = next;
            }
            head = ids[0];
            self.state[head as usize].count = n as u16;
        }
        // avail.ring[idx % size] = head, then avail.idx (2.7.13: the ring entry before the index).
        let slot = (self.avail_idx % self.size) as usize;
        self.avail_w16(4 + 2 * slot, head);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Release);
        self.avail_w16(2, self.avail_idx);
        Some(head)
    }

    /// Whether the device wants a notification for what was made available
    /// since the last call (2.7.10 / 2.7.7): avail_event with EVENT_IDX,
    /// else used.flags' NO_NOTIFY.
    pub fn kick_prepare(&mut self) -> bool {
        let old = self.kicked_idx;
        let new = self.avail_idx;
        self.kicked_idx = new;
        if old == new {
            return false;
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        if self.event_idx {
            need_event(self.used_r16(4 + 8 * self.size as usize), new, old)
        } else {
            self.used_r16(0) & USED_F_NO_NOTIFY == 0
        }
    }

    /// Notifies the device of queue `index` (4.1.5.2).
    pub fn notify(&self, t: &Transport) {
        t.notify_at(self.notify_offset, self.index);
    }

    /// `kick_prepare` then `notify` if the device wants it; true if notified.
    pub fn kick(&mut self, t: &Transport) -> bool {
        let n = self.kick_prepare();
        if n {
            self.notify(t);
        }
        n
    }

    /// Whether the used ring has entries the driver has not reaped.
    pub fn has_used(&self) -> bool {
        self.used_r16(2) != self.last_used
    }

    /// The next used element, its chain's descriptors freed; None when the
    /// used ring is drained. An element naming a head not in flight (a device
    /// bug) is logged and skipped.
    pub fn pop_used(&mut self) -> Option<Used> {
        loop {
            if !self.has_used() {
                return None;
            }
            core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Acquire);
            let slot = (self.last_used % self.size) as usize;
            let id = self.used_r32(4 + 8 * slot);
            let len = self.used_r32(4 + 8 * slot + 4);
            self.last_used = self.last_used.wrapping_add(1);
            if id >= self.size as u32 || self.state[id as usize].count == 0 {
                error!("virtio: queue {}: used element names descriptor {}, which is not a chain in flight; ignored", self.index, id);
                continue;
            }
            self.free_chain(id as u16);
            return Some(Used { head: id as u16, len });
        }
    }

    fn free_chain(&mut self, head: u16) {
        let n = self.state[head as usize].count;
        self.state[head as usize].count = 0;
        let mut last = head;
        for _ in 1..n {
            last = self.state[last as usize].next;
        }
        self.state[last as usize].next = self.free_head;
        self.free_head = head;
        self.num_free += n;
    }

    /// Asks for used buffer notifications again (after `disable_interrupts`,
    /// and with EVENT_IDX after each reaping: used_event = what was reaped,
    /// 2.7.10). Returns true if used entries arrived meanwhile: reap again
    /// (the device may not interrupt for them).
    pub fn enable_interrupts(&mut self) -> bool {
        self.quiet = false;
        if self.event_idx {
            let at = 4 + 2 * self.size as usize;
            self.avail_w16(at, self.last_used);
        } else {
            let f = self.avail_r16(0) & !AVAIL_F_NO_INTERRUPT;
            self.avail_w16(0, f);
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        self.has_used()
    }

    /// Asks the device not to interrupt for used buffers (a hint: NO_INTERRUPT;
    /// with EVENT_IDX the used_event is simply left behind).
    pub fn disable_interrupts(&mut self) {
        if self.quiet {
            return;
        }
        self.quiet = true;
        if !self.event_idx {
            let f = self.avail_r16(0) | AVAIL_F_NO_INTERRUPT;
            self.avail_w16(0, f);
        }
    }

    // ---- ring memory (little-endian; wasm32 is little-endian)

    fn write_desc(&mut self, i: u16, d: Desc) {
        unsafe { ptr::write_volatile(self.desc.as_mut_ptr().cast::<Desc>().add(i as usize), d) }
    }
    fn avail_w16(&mut self, off: usize, v: u16) {
        unsafe { ptr::write_volatile(self.avail.as_mut_ptr().cast::<u8>().add(off).cast::<u16>(), v) }
    }
    fn avail_r16(&self, off: usize) -> u16 {
        unsafe { ptr::read_volatile(self.avail.as_ptr().cast::<u8>().add(off).cast::<u16>()) }
    }
    fn used_r16(&self, off: usize) -> u16 {
        unsafe { ptr::read_volatile(self.used.as_ptr().cast::<u8>().add(off).cast::<u16>()) }
    }
    fn used_r32(&self, off: usize) -> u32 {
        unsafe { ptr::read_volatile(self.used.as_ptr().cast::<u8>().add(off).cast::<u32>()) }
    }
}

// Layout of struct virtq_desc (2.7.5).
const _: () = assert!(core::mem::size_of::<Desc>() == DESC_SIZE);
