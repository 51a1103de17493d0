//! `disk.virtio` (Redox's virtio-blkd serves its disk through driver-block;
//! here with the protocol nvmed serves disk.nvme with): open "0" gives a
//! handle, fsize the capacity in bytes, reads and writes at offsets and of
//! lengths in whole blocks (blk_size) become virtio-blk requests of at most
//! the largest transfer (size_max x seg_max, capped) on request queue
//! (client pid mod queues), and the reply is the byte count once every
//! request of the call completed (EIO if one failed: IOERR, UNSUPP, or no
//! status). Closing a handle that wrote sends FLUSH when it was negotiated
//! (the close's reply waits for it). Replies come from the interrupt
//! threads; requests that find no room on their queue wait in a per-queue
//! list until completions free descriptors. Each request has a deadline
//! (ioTimeoutMs): the watchdog in main.rs fails one that misses it.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::ptr;

use redox_driver::scheme::{Op, Request};
use redox_driver::{error, time, warn, Dma, DmaBuffer, Error, Result, EINVAL, EIO, ENOENT, ENOMEM};
use virtio_core::{Buf, Transport, Used, VirtQueue};

use crate::blk::{self, ReqSlot};
use crate::pool::BufferPool;

/// What the driver learnt from the device configuration and features.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// Capacity in 512-byte sectors.
    pub capacity: u64,
    /// The block size clients must align to (blk_size, else 512).
    pub block_size: u64,
    /// Largest data bytes of one request.
    pub max_transfer: usize,
    /// Largest data bytes of one descriptor (size_max, else max_transfer).
    pub seg_bytes: usize,
    /// FLUSH negotiated.
    pub flush: bool,
}

impl Geometry {
    pub fn bytes(&self) -> u64 {
        self.capacity * blk::SECTOR_SIZE
    }
    /// Data descriptors of a request of `len` bytes.
    pub fn segments(&self, len: usize) -> usize {
        (len + self.seg_bytes - 1) / self.seg_bytes
    }
}

/// A client call being served (possibly several virtio requests).
struct IoRequest {
    req: Option<Request>,
    /// Requests not completed yet.
    remaining: u32,
    /// The errno of the first request that failed.
    error: Option<i32>,
    /// What the reply reports on success.
    bytes: usize,
}

/// One virtio request's share of a call.
#[derive(Clone, Copy)]
struct Chunk {
    req: usize,
    kind: u32,
    sector: u64,
    /// Offset in the client's buffer and length.
    offset: usize,
    len: usize,
}

struct InFlight {
    chunk: Chunk,
    buf: Option<DmaBuffer>,
    slot: u16,
    /// Submission number (tells a request from a later one on the same head).
    seq: u64,
    /// Clock (ns) by which it must complete.
    deadline: u64,
    /// Failed by the driver after its deadline: the descriptors stay taken until the device returns them (or a reset).
    abandoned: bool,
}

/// A request past its deadline, for the watchdog.
#[derive(Clone, Copy, Debug)]
pub struct TimedOut {
    pub queue: usize,
    pub head: u16,
    seq: u64,
}

struct Queue {
    /// By head descriptor.
    inflight: Vec<Option<InFlight>>,
    pending: VecDeque<Chunk>,
    /// Headers and status bytes, one slot per request in flight.
    slots: Dma<[ReqSlot]>,
    free_slots: Vec<u16>,
}

pub struct DiskScheme {
    pub geo: Geometry,
    /// Open handles: whether each wrote (close flushes).
    handles: BTreeMap<usize, bool>,
    next_handle: usize,
    queues: Vec<Queue>,
    requests: Vec<Option<IoRequest>>,
    free_requests: Vec<usize>,
    pool: BufferPool,
    bufs: Vec<Buf>,
    /// Requests completed (all queues).
    pub ios: u64,
    io_timeout_ns: u64,
    next_seq: u64,
    /// The device cannot be used (failed re-initialisation): every request fails with EIO.
    pub dead: bool,
    /// The GET_ID answer: the id string, or the status it failed with.
    pub id: Option<core::result::Result<[u8; blk::ID_BYTES], u8>>,
    /// Set when GET_ID completed; whoever completed it wakes the waiter after unlocking.
    pub id_done: bool,
    /// The watchdog sleeps without a deadline (nothing was in flight): the next submission must wake it.
    pub watchdog_idle: bool,
    /// Set when a submission found the watchdog idle; whoever submitted wakes it after unlocking.
    pub wake_watchdog: bool,
}

impl DiskScheme {
    pub fn new(geo: Geometry, vqs: &[VirtQueue], io_timeout_ms: u64) -> Result<DiskScheme> {
        let mut queues = Vec::new();
        for vq in vqs {
            let n = vq.size() as usize;
            let mut slots = unsafe { Dma::<ReqSlot>::zeroed_slice(n)?.assume_init() };
            for s in slots.iter_mut() {
                *s = ReqSlot::default();
            }
            queues.push(Queue {
                inflight: (0..n).map(|_| None).collect(),
                pending: VecDeque::new(),
                slots,
                free_slots: (0..n as u16).rev().collect(),
            });
        }
        Ok(DiskScheme {
            geo, handles: BTreeMap::new(), next_handle: 1, queues, requests: Vec::new(), free_requests: Vec::new(),
            pool: BufferPool::new(geo.max_transfer), bufs: Vec::new(), ios: 0, io_timeout_ns: io_timeout_ms * 1_000_000,
            next_seq: 0, dead: false, id: None, id_done: false, watchdog_idle: false, wake_watchdog: false,
        })
    }

    /// Answers `req` now, or starts its requests (answered on completion).
    pub fn handle(&mut self, t: &Transport, vqs: &mut [VirtQueue], req: Request) {
        match req.op() {
            Op::Open => {
                let p = req.path();
                let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
                match if digits { p.parse::<u32>().ok() } else { None } {
                    Some(0) => {
                        let h = self.next_handle;
                        self.next_handle += 1;
                        self.handles.insert(h, false);
                        req.reply(Ok(h));
                    }
                    _ => req.reply(Err(Error::new(ENOENT))),
                }
            }
            Op::Close => match self.handles.remove(&req.handle()) {
                Some(true) if self.geo.flush && !self.dead && !self.queues.is_empty() => {
                    let qi = req.pid() as usize % self.queues.len();
                    let ri = self.new_request(IoRequest { req: Some(req), remaining: 1, error: None, bytes: 0 });
                    self.queues[qi].pending.push_back(Chunk { req: ri, kind: blk::T_FLUSH, sector: 0, offset: 0, len: 0 });
                    self.submit(t, vqs, qi);
                }
                Some(_) => req.reply(Ok(0)),
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Fsize => match self.handles.get(&req.handle()) {
                Some(_) => req.reply_u64(self.geo.bytes()),
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Read | Op::Write => self.start_io(t, vqs, req),
            Op::Other(_) => req.reply(Err(Error::new(EINVAL))),
        }
    }

    fn new_request(&mut self, r: IoRequest) -> usize {
        match self.free_requests.pop() {
            Some(i) => {
                self.requests[i] = Some(r);
                i
            }
            None => {
                self.requests.push(Some(r));
                self.requests.len() - 1
            }
        }
    }

    fn start_io(&mut self, t: &Transport, vqs: &mut [VirtQueue], req: Request) {
        let write = req.op() == Op::Write;
        match self.handles.get_mut(&req.handle()) {
            Some(wrote) if !self.queues.is_empty() => *wrote |= write,
            _ => return req.reply(Err(Error::new(EINVAL))),
        }
        let bs = self.geo.block_size;
        let (offset, len) = (req.offset(), req.len() as u64);
        if offset % bs != 0 || len % bs != 0 {
            return req.reply(Err(Error::new(EINVAL)));
        }
        let total = self.geo.bytes();
        if offset >= total || len == 0 {
            return req.reply(Ok(0));
        }
        if self.dead {
            return req.reply(Err(Error::new(EIO)));
        }
        let n = len.min(total - offset) as usize;
        let qi = req.pid() as usize % self.queues.len();
        let ri = self.new_request(IoRequest { req: Some(req), remaining: 0, error: None, bytes: n });
        let kind = if write { blk::T_OUT } else { blk::T_IN };
        let mut off = 0;
        let mut chunks = 0;
        while off < n {
            let len = (n - off).min(self.geo.max_transfer);
            let sector = (offset + off as u64) / blk::SECTOR_SIZE;
            self.queues[qi].pending.push_back(Chunk { req: ri, kind, sector, offset: off, len });
            off += len;
            chunks += 1;
        }
        if let Some(r) = self.requests[ri].as_mut() {
            r.remaining = chunks;
        }
        self.submit(t, vqs, qi);
    }

    /// Asks the device for its id string (GET_ID); `id` holds the answer once `id_done`.
    pub fn get_id(&mut self, t: &Transport, vqs: &mut [VirtQueue]) {
        let ri = self.new_request(IoRequest { req: None, remaining: 1, error: None, bytes: 0 });
        self.queues[0].pending.push_back(Chunk { req: ri, kind: blk::T_GET_ID, sector: 0, offset: 0, len: blk::ID_BYTES });
        self.submit(t, vqs, 0);
    }

    /// Makes waiting requests of queue `qi` available while it has room; one notification for the batch.
    pub fn submit(&mut self, t: &Transport, vqs: &mut [VirtQueue], qi: usize) {
        let mut submitted = 0;
        let mut deadline = 0;
        let vq = &mut vqs[qi];
        while let Some(&c) = self.queues[qi].pending.front() {
            let nbufs = 2 + self.geo.segments(c.len);
            if self.queues[qi].free_slots.is_empty() || !vq.can_add(nbufs) {
                break;
            }
            let mut buf = None;
            if c.len > 0 {
                match self.pool.take(c.len) {
                    Some(b) => buf = Some(b),
                    None if self.queues[qi].inflight.iter().any(|s| s.is_some()) => break, // memory frees as requests complete
                    None => {
                        self.queues[qi].pending.pop_front();
                        error!("no DMA memory for a {}-byte bounce buffer (raise memoryMiB)", c.len);
                        self.finish(c.req, Some(ENOMEM));
                        continue;
                    }
                }
            }
            self.queues[qi].pending.pop_front();
            let q = &mut self.queues[qi];
            let slot = q.free_slots.pop().unwrap();
            q.slots[slot as usize] = ReqSlot { kind: c.kind, reserved: 0, sector: c.sector, status: blk::S_NONE, _pad: [0; 7] };
            let slot_phys = q.slots.physical() + (slot as usize * core::mem::size_of::<ReqSlot>()) as u64;
            if c.kind == blk::T_OUT {
                if let (Some(b), Some(req)) = (buf.as_mut(), self.requests[c.req].as_ref().and_then(|r| r.req.as_ref())) {
                    req.copy_from_client(c.offset, &mut b[..c.len]);
                }
            }
            self.bufs.clear();
            self.bufs.push(Buf::readable(slot_phys, blk::HEADER_BYTES));
            if let Some(b) = buf.as_ref() {
                let device_writes = c.kind != blk::T_OUT;
                let mut at = 0;
                while at < c.len {
                    let n = (c.len - at).min(self.geo.seg_bytes);
                    self.bufs.push(Buf { addr: b.physical() + at as u64, len: n as u32, device_writes });
                    at += n;
                }
            }
            self.bufs.push(Buf::writable(slot_phys + blk::STATUS_OFFSET, 1));
            let head = vq.add(&self.bufs).expect("room was checked");
            if deadline == 0 {
                deadline = time::clock_ns() + self.io_timeout_ns;
            }
            self.next_seq += 1;
            self.queues[qi].inflight[head as usize] = Some(InFlight { chunk: c, buf, slot, seq: self.next_seq, deadline, abandoned: false });
            submitted += 1;
        }
        if submitted > 0 {
            vq.kick(t);
            if self.watchdog_idle {
                self.watchdog_idle = false;
                self.wake_watchdog = true;
            }
        }
    }

    /// A used chain of queue `qi` (from the interrupt thread).
    pub fn complete(&mut self, qi: usize, u: Used) {
        let f = match self.queues[qi].inflight.get_mut(u.head as usize).and_then(|s| s.take()) {
            Some(f) => f,
            None => return error!("queue {}: used chain {} is no request in flight", qi, u.head),
        };
        let q = &mut self.queues[qi];
        let status = unsafe { ptr::read_volatile(&q.slots[f.slot as usize].status) };
        q.free_slots.push(f.slot);
        if f.abandoned {
            // Its call already failed; the descriptors (freed by the queue) and the buffer are free again.
            warn!("queue {}: the {} that timed out (descriptor {}) completed after all: {}", qi, blk::type_name(f.chunk.kind), u.head, blk::status_name(status));
            if let Some(b) = f.buf {
                self.pool.give(b);
            }
            return;
        }
        self.ios += 1;
        let c = f.chunk;
        if status != blk::S_OK {
            let at = self.requests[c.req].as_ref().and_then(|r| r.req.as_ref()).map_or(0, |q| q.offset()) + c.offset as u64;
            error!("{} at byte {} (sector {}, {} bytes) failed: {}", blk::type_name(c.kind), at, c.sector, c.len, blk::status_name(status));
        }
        match c.kind {
            blk::T_IN if status == blk::S_OK => {
                if let (Some(b), Some(req)) = (f.buf.as_ref(), self.requests[c.req].as_ref().and_then(|r| r.req.as_ref())) {
                    req.copy_to_client(c.offset, &b[..c.len]);
                }
            }
            blk::T_GET_ID => {
                self.id = Some(match (status, f.buf.as_ref()) {
                    (blk::S_OK, Some(b)) => {
                        let mut id = [0u8; blk::ID_BYTES];
                        id.copy_from_slice(&b[..blk::ID_BYTES]);
                        Ok(id)
                    }
                    _ => Err(status),
                });
                self.id_done = true;
            }
            _ => {}
        }
        if let Some(b) = f.buf {
            self.pool.give(b);
        }
        self.finish(c.req, if status == blk::S_OK { None } else { Some(EIO) });
    }

    /// One request of call `ri` ended; the last one answers the client.
    fn finish(&mut self, ri: usize, errno: Option<i32>) {
        let done = match self.requests[ri].as_mut() {
            Some(r) => {
                if r.error.is_none() {
                    r.error = errno;
                }
                r.remaining -= 1;
                r.remaining == 0
            }
            None => false,
        };
        if !done {
            return;
        }
        let r = self.requests[ri].take().unwrap();
        self.free_requests.push(ri);
        if let Some(req) = r.req {
            req.reply(match r.error {
                Some(e) => Err(Error::new(e)),
                None => Ok(r.bytes),
            });
        }
    }

    /// Requests past their deadline at `now` and the earliest deadline of the others.
    pub fn expired(&mut self, now: u64) -> (Vec<TimedOut>, Option<u64>) {
        let mut out = Vec::new();
        let mut next: Option<u64> = None;
        for (qi, q) in self.queues.iter_mut().enumerate() {
            for (head, slot) in q.inflight.iter_mut().enumerate() {
                let f = match slot {
                    Some(f) if !f.abandoned => f,
                    _ => continue,
                };
                if f.deadline <= now {
                    out.push(TimedOut { queue: qi, head: head as u16, seq: f.seq });
                } else {
                    next = Some(next.map_or(f.deadline, |n| n.min(f.deadline)));
                }
            }
        }
        (out, next)
    }

    /// Fails a request that missed its deadline (virtio has no abort): its
    /// call gets EIO now; its descriptors, slot and buffer stay taken until
    /// the device returns the chain (or is reset).
    pub fn fail_timed_out(&mut self, t: &TimedOut, timeout_ms: u64) {
        let (ri, kind, at, len) = match &mut self.queues[t.queue].inflight[t.head as usize] {
            Some(f) if f.seq == t.seq && !f.abandoned => {
                f.abandoned = true;
                (f.chunk.req, f.chunk.kind, f.chunk.sector * blk::SECTOR_SIZE, f.chunk.len)
            }
            _ => return,
        };
        error!("{} of {} bytes at byte {} (queue {}, descriptor {}) timed out after {} ms; failing it with EIO",
            blk::type_name(kind), len, at, t.queue, t.head, timeout_ms);
        self.finish(ri, Some(EIO));
    }

    /// The device was (or will be) reset: every request in flight or waiting fails with EIO and everything is free again.
    pub fn fail_all(&mut self) -> usize {
        let mut failed = 0;
        for qi in 0..self.queues.len() {
            let q = &mut self.queues[qi];
            let mut reqs: Vec<usize> = Vec::new();
            let mut bufs: Vec<DmaBuffer> = Vec::new();
            for slot in q.inflight.iter_mut() {
                if let Some(f) = slot.take() {
                    if !f.abandoned {
                        reqs.push(f.chunk.req);
                    }
                    bufs.extend(f.buf);
                }
            }
            reqs.extend(q.pending.drain(..).map(|c| c.req));
            q.free_slots = (0..q.inflight.len() as u16).rev().collect();
            for b in bufs {
                self.pool.give(b);
            }
            failed += reqs.len();
            for ri in reqs {
                self.finish(ri, Some(EIO));
            }
        }
        failed
    }
}
