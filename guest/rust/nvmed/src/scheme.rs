//! `disk.nvme` (as Redox's nvmed/src/scheme.rs, with the protocol of
//! simrun's TypeScript NVMe driver): open "<nsid>" gives a handle, fsize the
//! namespace's size in bytes, read and write at block-aligned offsets of
//! whole blocks become NVMe commands of at most MDTS bytes each on I/O queue
//! (client pid mod queues), and the reply is the byte count once every
//! command of the request completed (EIO if one failed). Replies come from
//! the interrupt threads; requests that find their queue full wait in a
//! per-queue list until completions free command ids. Each command has a
//! deadline (ioTimeoutMs); the watchdog thread in main.rs aborts one that
//! misses it.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use redox_driver::scheme::{Op, Request};
use redox_driver::{error, time, DmaBuffer, Dma, Error, Result, EINVAL, EIO, ENOENT, ENOMEM, PAGE_SIZE};

use crate::nvme::cmd::NvmeCmd;
use crate::nvme::queues::NvmeComp;
use crate::nvme::regs::status_name;
use crate::nvme::Nvme;
use crate::pool::BufferPool;

#[derive(Clone, Copy, Debug)]
pub struct Namespace {
    pub nsid: u32,
    pub blocks: u64,
    pub block_size: u64,
}

/// A client read or write being served (possibly several commands).
struct IoRequest {
    req: Option<Request>,
    write: bool,
    /// Commands not completed yet.
    remaining: u32,
    /// The errno of the first command that failed.
    error: Option<i32>,
    /// Bytes the reply reports.
    bytes: usize,
}

/// One command's share of a request.
#[derive(Clone, Copy)]
struct Chunk {
    req: usize,
    nsid: u32,
    lba: u64,
    blocks: u16,
    /// Offset in the client's buffer and length.
    offset: usize,
    len: usize,
}

struct InFlight {
    chunk: Chunk,
    buf: DmaBuffer,
    /// Submission number (tells a command from a later one with the same id).
    seq: u64,
    /// Clock (ns) by which it must complete.
    deadline: u64,
    /// The watchdog took it (abort under way).
    timed_out: bool,
    /// Failed by the driver after the controller did not abort it: its id stays taken until it completes after all.
    abandoned: bool,
}

/// A command past its deadline, for the watchdog to abort.
#[derive(Clone, Copy, Debug)]
pub struct TimedOut {
    pub qid: u16,
    pub cid: u16,
    seq: u64,
}

/// Per I/O queue: commands in flight by command id, commands waiting for one.
struct IoQueue {
    inflight: Vec<Option<InFlight>>,
    pending: VecDeque<Chunk>,
    /// PRP list space: `prp_entries` u64 per command id (never across a page).
    prp: Dma<[u64]>,
}

pub struct DiskScheme {
    pub namespaces: BTreeMap<u32, Namespace>,
    handles: BTreeMap<usize, u32>,
    next_handle: usize,
    queues: Vec<IoQueue>,
    requests: Vec<Option<IoRequest>>,
    free_requests: Vec<usize>,
    pool: BufferPool,
    prp_entries: usize,
    mdts_bytes: usize,
    /// Commands completed (all queues).
    pub ios: u64,
    io_timeout_ns: u64,
    next_seq: u64,
    /// The watchdog sleeps without a deadline (nothing was in flight): the next submission must wake it.
    pub watchdog_idle: bool,
    /// Set when a submission found the watchdog idle; whoever submitted wakes it after unlocking.
    pub wake_watchdog: bool,
}

impl DiskScheme {
    pub fn new(nvme: &Nvme, namespaces: BTreeMap<u32, Namespace>, io_timeout_ms: u64) -> Result<DiskScheme> {
        let mdts_pages = nvme.mdts_bytes / PAGE_SIZE;
        let prp_entries = (mdts_pages.saturating_sub(1)).max(1).next_power_of_two();
        let mut queues = Vec::new();
        for q in &nvme.io {
            let depth = q.depth as usize;
            queues.push(IoQueue {
                inflight: (0..depth).map(|_| None).collect(),
                pending: VecDeque::new(),
                prp: unsafe { Dma::<u64>::zeroed_slice(depth * prp_entries)?.assume_init() },
            });
        }
        Ok(DiskScheme {
            namespaces, handles: BTreeMap::new(), next_handle: 1, queues,
            requests: Vec::new(), free_requests: Vec::new(),
            pool: BufferPool::new(nvme.mdts_bytes), prp_entries, mdts_bytes: nvme.mdts_bytes, ios: 0,
            io_timeout_ns: io_timeout_ms * 1_000_000, next_seq: 0, watchdog_idle: false, wake_watchdog: false,
        })
    }

    /// Answers `req` now, or starts its commands (answered on completion).
    pub fn handle(&mut self, nvme: &mut Nvme, req: Request) {
        match req.op() {
            Op::Open => {
                let p = req.path();
                let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
                let nsid = if digits { p.parse::<u32>().ok() } else { None }.filter(|n| self.namespaces.contains_key(n));
                match nsid {
                    Some(nsid) => {
                        let h = self.next_handle;
                        self.next_handle += 1;
                        self.handles.insert(h, nsid);
                        req.reply(Ok(h));
                    }
                    None => req.reply(Err(Error::new(ENOENT))),
                }
            }
            Op::Close => {
                let r = if self.handles.remove(&req.handle()).is_some() { Ok(0) } else { Err(Error::new(EINVAL)) };
                req.reply(r);
            }
            Op::Fsize => match self.namespace(&req) {
                Some(ns) => req.reply_u64(ns.blocks * ns.block_size),
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Read | Op::Write => self.start_io(nvme, req),
            Op::Other(_) => req.reply(Err(Error::new(EINVAL))),
        }
    }

    fn namespace(&self, req: &Request) -> Option<Namespace> {
        self.handles.get(&req.handle()).and_then(|n| self.namespaces.get(n)).copied()
    }

    fn start_io(&mut self, nvme: &mut Nvme, req: Request) {
        let ns = match self.namespace(&req) {
            Some(ns) if !self.queues.is_empty() => ns,
            _ => return req.reply(Err(Error::new(EINVAL))),
        };
        let bs = ns.block_size;
        let (offset, len) = (req.offset(), req.len() as u64);
        if offset % bs != 0 || len % bs != 0 {
            return req.reply(Err(Error::new(EINVAL)));
        }
        let total = ns.blocks * bs;
        if offset >= total || len == 0 {
            return req.reply(Ok(0));
        }
        let n = len.min(total - offset) as usize;
        let qi = req.pid() as usize % self.queues.len();
        let write = req.op() == Op::Write;
        let r = IoRequest { req: Some(req), write, remaining: 0, error: None, bytes: n };
        let ri = match self.free_requests.pop() {
            Some(i) => { self.requests[i] = Some(r); i }
            None => { self.requests.push(Some(r)); self.requests.len() - 1 }
        };
        let mut off = 0;
        let mut chunks = 0;
        while off < n {
            let len = (n - off).min(self.mdts_bytes);
            self.queues[qi].pending.push_back(Chunk {
                req: ri, nsid: ns.nsid, lba: (offset + off as u64) / bs, blocks: (len as u64 / bs) as u16, offset: off, len,
            });
            off += len;
            chunks += 1;
        }
        if let Some(r) = self.requests[ri].as_mut() {
            r.remaining = chunks;
        }
        self.submit(nvme, qi);
    }

    /// Submits waiting commands of queue `qi` while it has free command ids; one doorbell write for the batch.
    pub fn submit(&mut self, nvme: &mut Nvme, qi: usize) {
        let mut submitted = 0;
        let mut deadline = 0;
        while let Some(&c) = self.queues[qi].pending.front() {
            let q = &mut nvme.io[qi];
            if q.free_slots() == 0 {
                break;
            }
            let mut buf = match self.pool.take(c.len) {
                Some(b) => b,
                None if self.queues[qi].inflight.iter().any(|s| s.is_some()) => break, // memory frees as commands complete
                None => {
                    self.queues[qi].pending.pop_front();
                    error!("no DMA memory for a {}-byte bounce buffer (raise memoryMiB)", c.len);
                    self.finish(c.req, Some(ENOMEM));
                    continue;
                }
            };
            self.queues[qi].pending.pop_front();
            let cid = q.alloc_cid().unwrap();
            let write = self.requests[c.req].as_ref().map_or(false, |r| r.write);
            if write {
                if let Some(req) = self.requests[c.req].as_ref().and_then(|r| r.req.as_ref()) {
                    req.copy_from_client(c.offset, &mut buf[..c.len]);
                }
            }
            let (prp1, prp2) = self.prps(qi, cid, &buf, c.len);
            q.push(NvmeCmd::io(write, c.nsid, c.lba, c.blocks, prp1, prp2), cid);
            if deadline == 0 {
                deadline = time::clock_ns() + self.io_timeout_ns;
            }
            self.next_seq += 1;
            self.queues[qi].inflight[cid as usize] = Some(InFlight {
                chunk: c, buf, seq: self.next_seq, deadline, timed_out: false, abandoned: false,
            });
            submitted += 1;
        }
        if submitted > 0 {
            nvme.io[qi].ring_sq(&nvme.bar);
            if self.watchdog_idle {
                self.watchdog_idle = false;
                self.wake_watchdog = true;
            }
        }
    }

    /// Commands past their deadline at `now` (marked, so each is reported once) and the earliest deadline of the others.
    pub fn expired(&mut self, now: u64) -> (Vec<TimedOut>, Option<u64>) {
        let mut out = Vec::new();
        let mut next: Option<u64> = None;
        for (qi, q) in self.queues.iter_mut().enumerate() {
            for (cid, slot) in q.inflight.iter_mut().enumerate() {
                let f = match slot { Some(f) if !f.timed_out => f, _ => continue };
                if f.deadline <= now {
                    f.timed_out = true;
                    out.push(TimedOut { qid: qi as u16 + 1, cid: cid as u16, seq: f.seq });
                } else {
                    next = Some(next.map_or(f.deadline, |n| n.min(f.deadline)));
                }
            }
        }
        (out, next)
    }

    /// Whether the timed-out command is still in flight (its completion did not arrive meanwhile).
    pub fn still_in_flight(&self, t: &TimedOut) -> bool {
        matches!(&self.queues[t.qid as usize - 1].inflight[t.cid as usize], Some(f) if f.seq == t.seq && !f.abandoned)
    }

    /// The controller did not abort a timed-out command: its request fails with EIO now; the
    /// command id and buffer stay taken until the command completes after all (or for good).
    pub fn abandon(&mut self, t: &TimedOut) {
        if !self.still_in_flight(t) {
            return;
        }
        let ri = match &mut self.queues[t.qid as usize - 1].inflight[t.cid as usize] {
            Some(f) => { f.abandoned = true; f.chunk.req }
            None => return,
        };
        self.finish(ri, Some(EIO));
    }

    /// PRP1 and PRP2 for a page-aligned buffer (NVMe 1.4, 4.3): PRP2 is the second page or a PRP list.
    fn prps(&mut self, qi: usize, cid: u16, buf: &DmaBuffer, len: usize) -> (u64, u64) {
        let base = buf.physical();
        let pages = (len + PAGE_SIZE - 1) / PAGE_SIZE;
        match pages {
            0 | 1 => (base, 0),
            2 => (base, base + PAGE_SIZE as u64),
            _ => {
                let q = &mut self.queues[qi];
                let at = cid as usize * self.prp_entries;
                for i in 1..pages {
                    q.prp[at + i - 1] = base + (i * PAGE_SIZE) as u64;
                }
                (base, q.prp.physical() + (at * 8) as u64)
            }
        }
    }

    /// An I/O completion on queue `qi` (from the interrupt thread).
    pub fn complete(&mut self, nvme: &mut Nvme, qi: usize, c: &NvmeComp) {
        let slot = self.queues[qi].inflight.get_mut(c.cid as usize).and_then(|s| s.take());
        let f = match slot {
            Some(f) => f,
            None => return error!("I/O completion on queue {} for idle command id {}", qi + 1, c.cid),
        };
        nvme.io[qi].release_cid(c.cid);
        if f.abandoned {
            // Its request already failed; the id and the buffer are free again.
            self.pool.give(f.buf);
            return;
        }
        self.ios += 1;
        let status = c.status_code();
        let ch = f.chunk;
        if let Some(r) = self.requests[ch.req].as_ref() {
            if status != 0 {
                let at = r.req.as_ref().map_or(0, |q| q.offset()) + ch.offset as u64;
                error!("{} at byte {} failed: {}", if r.write { "write" } else { "read" }, at, status_name(status));
            } else if !r.write {
                if let Some(req) = r.req.as_ref() {
                    req.copy_to_client(ch.offset, &f.buf[..ch.len]);
                }
            }
        }
        self.pool.give(f.buf);
        self.finish(ch.req, if status == 0 { None } else { Some(EIO) });
    }

    /// One command of request `ri` ended; the last one answers the client.
    fn finish(&mut self, ri: usize, errno: Option<i32>) {
        let done = match self.requests[ri].as_mut() {
            Some(r) => {
                if r.error.is_none() { r.error = errno; }
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
            req.reply(match r.error { Some(e) => Err(Error::new(e)), None => Ok(r.bytes) });
        }
    }
}
