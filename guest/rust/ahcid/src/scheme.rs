//! `disk.ahci`: one disk per port with an ATA disk, numbered from 0 in port
//! order (as Redox's ahcid numbers them). The protocol is disk.nvme's: open
//! "<n>" gives a handle, fsize the disk's size in bytes, reads and writes
//! at sector-aligned offsets of whole sectors become commands of at most
//! maxTransferKiB each, and the reply is the byte count once every command
//! of the request completed (EIO if one failed). Closing a handle that
//! wrote flushes the disk's cache (FLUSH CACHE EXT) before the reply.
//!
//! With NCQ every free tag takes a READ/WRITE FPDMA QUEUED; without it the
//! commands are READ/WRITE DMA EXT, several slots issued at once (the HBA
//! runs them one after the other). A non-queued command (a flush) waits
//! until the queue drained, and holds it until it is done.
//!
//! Errors (PxIS.TFES, HBFS, HBDS, IFS, OFS) and commands past their
//! deadline reset the port (`recover`): the failing command fails with EIO,
//! the others are issued again.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::scheme::{Op, Request};
use redox_driver::{error, info, time, warn, DmaBuffer, Error, Mmio, EINVAL, EIO, ENOENT, ENOMEM};

use crate::ahci::ata::{self, H2dFis};
use crate::ahci::port::{wait_for, Port};
use crate::ahci::regs::*;
use crate::pool::BufferPool;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Read,
    Write,
    Flush,
}

/// One command's share of a request.
pub struct Chunk {
    req: usize,
    kind: Kind,
    lba: u64,
    sectors: u32,
    /// Offset in the client's buffer and length.
    offset: usize,
    len: usize,
    /// Issues of this chunk that ended in a port reset whose cause was not found.
    retries: u8,
    /// Issue order (requeued chunks keep theirs).
    seq: u64,
    /// The bounce buffer (kept across a requeue: a write's data is already in it).
    buf: Option<DmaBuffer>,
}

pub struct InFlight {
    chunk: Chunk,
    /// Clock (ns) by which it must complete.
    deadline: u64,
    /// READ/WRITE FPDMA QUEUED (completes when its PxSACT bit clears) or not (PxCI).
    queued: bool,
}

struct IoRequest {
    req: Option<Request>,
    remaining: u32,
    error: Option<i32>,
    bytes: usize,
}

struct Handle {
    disk: usize,
    wrote: bool,
}

/// Why a port is reset.
#[derive(Clone, Copy)]
pub enum Why {
    /// Error bits of PxIS.
    Error(u32),
    /// Slots past their deadline.
    Timeout(u32),
}

/// Resets of a chunk with an unknown cause after which it fails.
const MAX_RETRIES: u8 = 3;

pub struct DiskScheme {
    pub hba: Mmio,
    pub cap: u32,
    /// The disks: disk.ahci:<n> is ports[n].
    pub ports: Vec<Port>,
    handles: BTreeMap<usize, Handle>,
    next_handle: usize,
    requests: Vec<Option<IoRequest>>,
    free_requests: Vec<usize>,
    pool: BufferPool,
    max_bytes: usize,
    io_timeout_ns: u64,
    link_timeout: Duration,
    next_seq: u64,
    /// Commands completed.
    pub ios: u64,
    /// The watchdog sleeps without a deadline: the next submission must wake it.
    pub watchdog_idle: bool,
    /// Set when a submission found the watchdog idle; whoever submitted wakes it after unlocking.
    pub wake_watchdog: bool,
}

impl DiskScheme {
    pub fn new(hba: Mmio, cap: u32, ports: Vec<Port>, max_bytes: usize, io_timeout_ms: u64, link_timeout: Duration) -> DiskScheme {
        DiskScheme {
            hba, cap, ports, handles: BTreeMap::new(), next_handle: 1, requests: Vec::new(), free_requests: Vec::new(),
            pool: BufferPool::new(max_bytes), max_bytes, io_timeout_ns: io_timeout_ms * 1_000_000, link_timeout,
            next_seq: 0, ios: 0, watchdog_idle: false, wake_watchdog: false,
        }
    }

    /// Answers `req` now, or starts its commands (answered on completion).
    pub fn handle(&mut self, req: Request) {
        match req.op() {
            Op::Open => {
                let p = req.path();
                let digits = !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
                let disk = if digits { p.parse::<usize>().ok() } else { None }.filter(|&n| n < self.ports.len());
                match disk {
                    Some(disk) => {
                        let h = self.next_handle;
                        self.next_handle += 1;
                        self.handles.insert(h, Handle { disk, wrote: false });
                        req.reply(Ok(h));
                    }
                    None => req.reply(Err(Error::new(ENOENT))),
                }
            }
            Op::Close => match self.handles.remove(&req.handle()) {
                Some(Handle { disk, wrote: true }) => {
                    // Flush the volatile write cache before the close returns.
                    let ri = self.new_request(req, 0, 1);
                    self.queue_chunk(disk, ri, Kind::Flush, 0, 0, 0, 0);
                    self.submit(disk);
                }
                Some(_) => req.reply(Ok(0)),
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Fsize => match self.handles.get(&req.handle()) {
                Some(h) => {
                    let (sectors, ss) = self.geometry(h.disk);
                    req.reply_u64(sectors * ss as u64)
                }
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Read | Op::Write => self.start_io(req),
            Op::Other(_) => req.reply(Err(Error::new(EINVAL))),
        }
    }

    fn geometry(&self, disk: usize) -> (u64, u32) {
        self.ports[disk].info.as_ref().map_or((0, 512), |i| (i.sectors, i.sector_size))
    }

    fn new_request(&mut self, req: Request, bytes: usize, remaining: u32) -> usize {
        let r = IoRequest { req: Some(req), remaining, error: None, bytes };
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

    #[allow(clippy::too_many_arguments)]
    fn queue_chunk(&mut self, disk: usize, req: usize, kind: Kind, lba: u64, sectors: u32, offset: usize, len: usize) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.ports[disk].pending.push_back(Chunk { req, kind, lba, sectors, offset, len, retries: 0, seq, buf: None });
    }

    fn start_io(&mut self, req: Request) {
        let disk = match self.handles.get_mut(&req.handle()) {
            Some(h) => {
                if req.op() == Op::Write {
                    h.wrote = true;
                }
                h.disk
            }
            None => return req.reply(Err(Error::new(EINVAL))),
        };
        let (sectors, ss) = self.geometry(disk);
        let bs = ss as u64;
        let (offset, len) = (req.offset(), req.len() as u64);
        if offset % bs != 0 || len % bs != 0 {
            return req.reply(Err(Error::new(EINVAL)));
        }
        let total = sectors * bs;
        if offset >= total || len == 0 {
            return req.reply(Ok(0));
        }
        let n = len.min(total - offset) as usize;
        let per = (self.max_bytes / ss as usize).max(1) * ss as usize;
        let chunks = (n + per - 1) / per;
        let kind = if req.op() == Op::Write { Kind::Write } else { Kind::Read };
        let ri = self.new_request(req, n, chunks as u32);
        let mut off = 0;
        while off < n {
            let len = (n - off).min(per);
            self.queue_chunk(disk, ri, kind, (offset + off as u64) / bs, (len as u64 / bs) as u32, off, len);
            off += len;
        }
        self.submit(disk);
    }

    /// Issues waiting commands of disk `d` into free slots: PxSACT bits (queued ones) first, then one PxCI write.
    pub fn submit(&mut self, d: usize) {
        let mut sact = 0u32;
        let mut ci = 0u32;
        let mut deadline = 0u64;
        loop {
            let port = &mut self.ports[d];
            let (kind, len) = match port.pending.front() {
                Some(c) => (c.kind, c.len),
                None => break,
            };
            let busy = port.busy();
            let queued = port.ncq && kind != Kind::Flush;
            if port.nonqueued > 0 && port.ncq {
                break; // a non-queued command holds the port
            }
            if port.ncq && !queued && busy > 0 {
                break; // a non-queued command waits for the queue to drain
            }
            let slot = match (0..port.depth).find(|&s| port.inflight[s as usize].is_none()) {
                Some(s) => s,
                None => break,
            };
            let mut c = port.pending.pop_front().unwrap();
            if kind != Kind::Flush && c.buf.is_none() {
                match self.pool.take(len) {
                    Some(mut b) => {
                        if kind == Kind::Write {
                            if let Some(req) = self.requests[c.req].as_ref().and_then(|r| r.req.as_ref()) {
                                req.copy_from_client(c.offset, &mut b[..len]);
                            }
                        }
                        c.buf = Some(b);
                    }
                    None if busy > 0 => {
                        self.ports[d].pending.push_front(c); // memory frees as commands complete
                        break;
                    }
                    None => {
                        error!("no DMA memory for a {}-byte bounce buffer (raise memoryMiB)", len);
                        self.finish(c.req, Some(ENOMEM));
                        continue;
                    }
                }
            }
            let port = &mut self.ports[d];
            let fis = match kind {
                Kind::Flush => H2dFis::flush(),
                _ if queued => H2dFis::fpdma(kind == Kind::Write, c.lba, c.sectors, slot),
                _ => H2dFis::dma_ext(kind == Kind::Write, c.lba, c.sectors),
            };
            let phys = c.buf.as_ref().map_or(0, |b| b.physical());
            port.build(slot, &fis, kind == Kind::Write, phys, c.len);
            let bit = 1u32 << slot;
            if queued {
                sact |= bit;
            } else {
                port.nonqueued += 1;
            }
            ci |= bit;
            if deadline == 0 {
                deadline = time::clock_ns() + self.io_timeout_ns;
            }
            port.inflight[slot as usize] = Some(InFlight { chunk: c, deadline, queued });
        }
        if ci == 0 {
            return;
        }
        let port = &mut self.ports[d];
        if sact != 0 {
            port.write(&self.hba, PX_SACT, sact);
        }
        port.write(&self.hba, PX_CI, ci);
        let busy = port.busy();
        if busy > port.peak {
            port.peak = busy;
            redox_driver::debug!("port {}: {} commands in flight", port.num, busy);
        }
        if self.watchdog_idle {
            self.watchdog_idle = false;
            self.wake_watchdog = true;
        }
    }

    /// Completes the commands of disk `d` whose PxCI bit (non-queued) or PxSACT bit (queued) cleared.
    pub fn reap(&mut self, d: usize) {
        let port = &self.ports[d];
        let ci = port.read(&self.hba, PX_CI);
        let sact = if port.ncq { port.read(&self.hba, PX_SACT) } else { 0 };
        for slot in 0..32usize {
            let bit = 1u32 << slot;
            let done = match &self.ports[d].inflight[slot] {
                Some(f) if f.queued => (ci | sact) & bit == 0,
                Some(_) => ci & bit == 0,
                None => false,
            };
            if done {
                let f = self.ports[d].inflight[slot].take().unwrap();
                self.complete(d, f, None);
            }
        }
    }

    /// One command ended: a read's data to its client, the buffer back to the pool, the request advanced.
    fn complete(&mut self, d: usize, f: InFlight, errno: Option<i32>) {
        if !f.queued {
            self.ports[d].nonqueued -= 1;
        }
        self.ios += 1;
        let c = f.chunk;
        if let Some(b) = c.buf {
            if errno.is_none() && c.kind == Kind::Read {
                if let Some(req) = self.requests[c.req].as_ref().and_then(|r| r.req.as_ref()) {
                    req.copy_to_client(c.offset, &b[..c.len]);
                }
            }
            self.pool.give(b);
        }
        self.finish(c.req, errno);
    }

    /// One command of request `ri` ended; the last one answers the client.
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

    /// The interrupt: for each port in IS, clear its PxIS, complete what finished, recover from errors, issue more.
    pub fn irq(&mut self) -> bool {
        let is = self.hba.read32(IS);
        if is == 0 {
            return false;
        }
        for d in 0..self.ports.len() {
            let num = self.ports[d].num;
            if is & (1 << num) == 0 {
                continue;
            }
            let pis = self.ports[d].read(&self.hba, PX_IS);
            self.ports[d].write(&self.hba, PX_IS, pis);
            self.reap(d);
            if pis & PIS_ERRORS != 0 {
                self.recover(d, Why::Error(pis));
            }
            self.submit(d);
        }
        self.hba.write32(IS, is);
        true
    }

    /// Slots past their deadline at `now`, per disk, and the earliest deadline of the others.
    pub fn expired(&self, now: u64) -> (Vec<(usize, u32)>, Option<u64>) {
        let mut out = Vec::new();
        let mut next: Option<u64> = None;
        for (d, p) in self.ports.iter().enumerate() {
            let mut mask = 0u32;
            for (slot, f) in p.inflight.iter().enumerate() {
                if let Some(f) = f {
                    if f.deadline <= now {
                        mask |= 1 << slot;
                    } else {
                        next = Some(next.map_or(f.deadline, |n| n.min(f.deadline)));
                    }
                }
            }
            if mask != 0 {
                out.push((d, mask));
            }
        }
        (out, next)
    }

    /// Port reset after an error or a timeout (AHCI 1.3.1 6.2.2): stop the
    /// engine, clear PxSERR and PxIS, CLO or COMRESET when the device stays
    /// busy (always COMRESET after a timeout), start again; then fail the
    /// command that caused it (the current slot for a non-queued command, the
    /// tag the NCQ Command Error log names for a queued one) and issue the
    /// others again.
    pub fn recover(&mut self, d: usize, why: Why) {
        self.reap(d);
        let hba = &self.hba;
        let port = &mut self.ports[d];
        port.resets += 1;
        let num = port.num;
        let tfd = port.read(hba, PX_TFD);
        let serr = port.read(hba, PX_SERR);
        let ci = port.read(hba, PX_CI);
        let sact = port.read(hba, PX_SACT);
        let cmd = port.read(hba, PX_CMD);
        let (status, err) = (tfd as u8, (tfd >> 8) as u8);
        let mut failed = 0u32;
        let timeout = match why {
            Why::Error(is) => {
                error!("port {}: error: IS {:#x}{} TFD {:#x} ({}) SERR {:#x} CI {:#x} SACT {:#x}", num, is, is_names(is), tfd,
                    ata::status_text(status, err), serr, ci, sact);
                // A non-queued command fails where the engine stopped (PxCMD.CCS).
                let ccs = pcmd_ccs(cmd) as usize;
                if matches!(&port.inflight[ccs], Some(f) if !f.queued) && ci & (1 << ccs) != 0 {
                    failed = 1 << ccs;
                }
                false
            }
            Why::Timeout(mask) => {
                error!("port {}: command timeout (slots {:#x}): TFD {:#x} ({}) SERR {:#x} CI {:#x} SACT {:#x}; resetting the port",
                    num, mask, tfd, ata::status_text(status, err), serr, ci, sact);
                failed = mask;
                true
            }
        };
        let stopped = port.stop_engine(hba).is_ok();
        port.clear_errors(hba);
        let busy = port.read(hba, PX_TFD) & (TFD_BSY | TFD_DRQ) != 0;
        if timeout || !stopped || busy {
            let mut clear = false;
            if !timeout && stopped && self.cap & CAP_SCLO != 0 {
                // Command List Override: the HBA clears BSY and DRQ (3.3.7).
                let c = port.read(hba, PX_CMD);
                port.write(hba, PX_CMD, c | PCMD_CLO);
                clear = wait_for(Duration::from_millis(500), || port.read(hba, PX_CMD) & PCMD_CLO == 0)
                    && port.read(hba, PX_TFD) & (TFD_BSY | TFD_DRQ) == 0;
                if clear {
                    info!("port {}: device busy after the error; cleared with CLO", num);
                }
            }
            if !clear {
                warn!("port {}: COMRESET", num);
                let _ = port.stop_engine(hba);
                if !port.comreset(hba, self.link_timeout) {
                    error!("port {}: no link after COMRESET", num);
                } else if !port.wait_ready(hba, Duration::from_millis(1000)) {
                    error!("port {}: device still busy after COMRESET (TFD {:#x})", num, port.read(hba, PX_TFD));
                }
                port.clear_errors(hba);
            }
        }
        hba.write32(IS, 1 << num);
        port.start(hba);

        // A queued command failed: the NCQ Command Error log names its tag (SATA 3.x 13.7.4; ACS-3 A.14).
        let queued = port.inflight.iter().any(|f| matches!(f, Some(f) if f.queued));
        if !timeout && failed == 0 && queued {
            match port.polled(hba, &H2dFis::read_log(ata::LOG_NCQ_ERROR, 0), "READ LOG EXT (NCQ Command Error log)") {
                Ok(()) => {
                    let b = &port.scratch;
                    let sum = b[..512].iter().fold(0u8, |a, &x| a.wrapping_add(x));
                    let lba = (0..6).fold(0u64, |a, i| a | ((b[[4, 5, 6, 8, 9, 10][i]] as u64) << (8 * i)));
                    let tag = (b[0] & 0x1f) as usize;
                    if b[0] & 0x80 != 0 || sum != 0 {
                        warn!("port {}: NCQ Command Error log names no queued command (NQ {}, checksum {})", num, b[0] >> 7, if sum == 0 { "ok" } else { "bad" });
                    } else if port.inflight[tag].is_some() {
                        info!("port {}: NCQ error log: tag {} status {:#x} error {:#x} ({}) LBA {}", num, tag, b[2], b[3], ata::status_text(b[2], b[3]), lba);
                        failed = 1 << tag;
                    } else {
                        warn!("port {}: NCQ error log names tag {}, which is not in flight", num, tag);
                    }
                }
                Err(_) => {
                    let _ = port.stop_engine(hba);
                    port.clear_errors(hba);
                    hba.write32(IS, 1 << num);
                    port.start(hba);
                }
            }
        }

        // Fail the culprit, issue the others again in their order.
        let mut again: Vec<Chunk> = Vec::new();
        let mut dead: Vec<InFlight> = Vec::new();
        for slot in 0..32usize {
            let f = match self.ports[d].inflight[slot].take() {
                Some(f) => f,
                None => continue,
            };
            let unknown = failed == 0;
            if failed & (1 << slot) != 0 || (unknown && f.chunk.retries >= MAX_RETRIES) {
                dead.push(f);
                continue;
            }
            if !f.queued {
                self.ports[d].nonqueued -= 1;
            }
            let mut c = f.chunk;
            if unknown {
                c.retries += 1;
            }
            again.push(c);
        }
        for f in dead {
            let c = &f.chunk;
            error!("port {}: {:?} of {} sectors at LBA {} failed: EIO", num, c.kind, c.sectors, c.lba);
            self.complete(d, f, Some(EIO));
        }
        again.sort_by_key(|c| c.seq);
        let n = again.len();
        for c in again.into_iter().rev() {
            self.ports[d].pending.push_front(c);
        }
        if n > 0 {
            info!("port {}: issuing {} command(s) again", num, n);
        }
    }
}

/// Names of the error bits of a PxIS value: " (TFES)".
fn is_names(is: u32) -> alloc::string::String {
    let names: Vec<&str> = [(PIS_TFES, "TFES"), (PIS_HBFS, "HBFS"), (PIS_HBDS, "HBDS"), (PIS_IFS, "IFS"), (PIS_OFS, "OFS")]
        .iter().filter(|(bit, _)| is & bit != 0).map(|(_, n)| *n).collect();
    if names.is_empty() { alloc::string::String::new() } else { alloc::format!(" ({})", names.join(" ")) }
}
