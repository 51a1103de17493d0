//! The network interface: receive and transmit buffers on the two queues,
//! and `network.<ifname>` served in the shape the rest of the project's
//! network drivers serve it (src/drivers/linux-kpi/netdev.ts, which the
//! netecho workload relies on; Redox's driver-network scheme):
//!
//!   open   "" (the frames): the first open brings the interface up (received
//!          frames are kept for readers from then on); "mac": the address,
//!          read as 6 raw bytes; other paths ENOENT
//!   read   one received frame, whole (Ethernet header first; truncated to the
//!          buffer); waits until one arrives, EAGAIN with O_NONBLOCK
//!   write  one frame of 14..mtu+14 bytes (EINVAL shorter, EMSGSIZE longer),
//!          ENETDOWN while the link is down; taken at once into a transmit
//!          buffer (the count is the reply), or, with the transmit ring
//!          full, waits for a completion (EAGAIN with O_NONBLOCK)
//!   close  the last frames handle takes the interface down: frames kept
//!          are dropped, waiting reads and writes fail with ENETDOWN
//!   fsize  0
//!
//! Receive buffers: `rxBuffers` of `rxBufferBytes` each (header + frame),
//! one device-writable descriptor each, re-posted as soon as a frame's
//! bytes are copied out. With MRG_RXBUF a frame spans num_buffers buffers
//! (the header in the first one) and is gathered here, across interrupts
//! if the device returned only part of them so far. Transmit buffers: one
//! per transmit descriptor, header (flags 0, gso NONE: full checksums)
//! followed by the frame in one device-readable descriptor.
//!
//! Waiting requests are answered from the interrupt threads (frames
//! arriving, transmit completions, link changes).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use redox_driver::scheme::{Op, Request};
use redox_driver::{error, info, warn, Dma, DmaBuffer, Error, Result, EAGAIN, EINVAL, ENOENT};
use virtio_core::{Buf, Transport, VirtQueue};

use crate::net::{self, ETH_ALEN, ETH_HLEN, HDR_LEN};

/// Redox's errno values (the same as Linux's) the network scheme answers with.
pub const EMSGSIZE: i32 = 90;
pub const ENETDOWN: i32 = 100;
/// The client's open flag asking for EAGAIN instead of waiting (the kernel model's O_NONBLOCK).
pub const O_NONBLOCK: u32 = 0x4;
/// Frames kept for readers before new ones are dropped (as netdev_max_backlog).
pub const MAX_BACKLOG: usize = 1000;
/// The first frames dropped for a reason are logged; later ones only counted.
const LOG_FIRST: u64 = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Handle {
    Frames { nonblocking: bool },
    Mac,
}

/// What the interface was set up with.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub mac: [u8; ETH_ALEN],
    /// Largest payload (frames up to mtu + 14 bytes are sent).
    pub mtu: u16,
    /// MRG_RXBUF negotiated: a frame may span several receive buffers.
    pub mergeable: bool,
    /// Receive buffers to keep posted, and the bytes of each.
    pub rx_buffers: u16,
    pub rx_buffer_bytes: usize,
}

#[derive(Default, Debug, Clone, Copy)]
pub struct Counters {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    /// Frames that spanned more than one receive buffer.
    pub rx_merged: u64,
    /// Frames dropped: nobody had the interface open, or the backlog was full.
    pub rx_dropped: u64,
    /// Frames dropped as malformed (bad header, length, num_buffers).
    pub rx_errors: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Writes that found the transmit ring full.
    pub tx_busy: u64,
}

/// A frame being gathered from several receive buffers (MRG_RXBUF).
struct Gather {
    /// Buffers still to come.
    remaining: u16,
    bad: bool,
}

pub struct NetIf {
    pub cfg: Config,
    pub link_up: bool,
    /// A frames handle is open.
    up: bool,
    handles: BTreeMap<usize, Handle>,
    next_handle: usize,
    backlog: VecDeque<Vec<u8>>,
    readers: VecDeque<Request>,
    writers: VecDeque<Request>,
    pub counters: Counters,

    rx_slab: DmaBuffer,
    /// By receive descriptor head: the buffer posted with it.
    rx_posted: Vec<Option<u16>>,
    rx_free: Vec<u16>,
    gather: Option<Gather>,
    /// The frame being assembled (reused).
    frame: Vec<u8>,

    tx_slab: DmaBuffer,
    tx_stride: usize,
    /// By transmit descriptor head: the buffer it carries.
    tx_posted: Vec<Option<u16>>,
    tx_free: Vec<u16>,
}

impl NetIf {
    pub fn new(cfg: Config, rx: &VirtQueue, tx: &VirtQueue) -> Result<NetIf> {
        let nrx = cfg.rx_buffers.min(rx.size()).max(1);
        let ntx = tx.size();
        let tx_stride = (HDR_LEN + ETH_HLEN + cfg.mtu as usize + 7) & !7;
        let cfg = Config { rx_buffers: nrx, ..cfg };
        Ok(NetIf {
            cfg, link_up: true, up: false, handles: BTreeMap::new(), next_handle: 1, backlog: VecDeque::new(),
            readers: VecDeque::new(), writers: VecDeque::new(), counters: Counters::default(),
            rx_slab: Dma::buffer(nrx as usize * cfg.rx_buffer_bytes)?,
            rx_posted: (0..rx.size()).map(|_| None).collect(),
            rx_free: (0..nrx).rev().collect(),
            gather: None,
            frame: Vec::with_capacity(ETH_HLEN + cfg.mtu as usize + net::VLAN_HLEN),
            tx_slab: Dma::buffer(ntx as usize * tx_stride)?,
            tx_stride,
            tx_posted: (0..ntx).map(|_| None).collect(),
            tx_free: (0..ntx).rev().collect(),
        })
    }

    /// Largest frame accepted from the device (a VLAN tag beyond mtu + 14 allowed).
    fn max_rx_frame(&self) -> usize {
        ETH_HLEN + self.cfg.mtu as usize + net::VLAN_HLEN
    }

    // ---- receive

    /// Posts every free receive buffer the ring has room for; notifies the device if it wants it.
    pub fn fill_rx(&mut self, t: &Transport, vq: &mut VirtQueue) {
        let len = self.cfg.rx_buffer_bytes;
        let mut posted = 0;
        while vq.can_add(1) {
            let b = match self.rx_free.pop() {
                Some(b) => b,
                None => break,
            };
            let addr = self.rx_slab.physical() + (b as usize * len) as u64;
            let head = vq.add(&[Buf::writable(addr, len as u32)]).expect("room was checked");
            self.rx_posted[head as usize] = Some(b);
            posted += 1;
        }
        if posted > 0 {
            vq.kick(t);
        }
    }

    /// Takes what the device returned on the receive queue, then re-posts the buffers.
    pub fn reap_rx(&mut self, t: &Transport, vq: &mut VirtQueue) {
        loop {
            while let Some(u) = vq.pop_used() {
                let b = match self.rx_posted.get_mut(u.head as usize).and_then(|s| s.take()) {
                    Some(b) => b,
                    None => {
                        error!("receiveq: used chain {} carries no receive buffer", u.head);
                        continue;
                    }
                };
                self.rx_buffer(b, u.len as usize);
                self.rx_free.push(b);
            }
            if !vq.enable_interrupts() {
                break;
            }
        }
        self.fill_rx(t, vq);
    }

    /// One used receive buffer `b` with `len` bytes written.
    fn rx_buffer(&mut self, b: u16, len: usize) {
        let size = self.cfg.rx_buffer_bytes;
        if len > size {
            self.gather = None;
            return self.rx_error(alloc::format!("receive buffer {}: used length {} exceeds its {} bytes", b, len, size));
        }
        let start = b as usize * size;
        let max = self.max_rx_frame();
        if let Some(g) = self.gather.as_mut() {
            // A continuation buffer: frame bytes only.
            g.remaining -= 1;
            if !g.bad {
                if self.frame.len() + len > max {
                    g.bad = true;
                } else {
                    self.frame.extend_from_slice(&self.rx_slab[start..start + len]);
                }
            }
            if g.remaining == 0 {
                let bad = g.bad;
                self.gather = None;
                if bad {
                    self.rx_error(alloc::format!("a merged frame exceeds {} bytes; dropped", max));
                } else {
                    self.counters.rx_merged += 1;
                    self.frame_done();
                }
            }
            return;
        }
        if len < HDR_LEN {
            return self.rx_error(alloc::format!("receive buffer {}: used length {} is shorter than the {}-byte header", b, len, HDR_LEN));
        }
        let hdr = &self.rx_slab[start..start + HDR_LEN];
        let num_buffers = u16::from_le_bytes([hdr[net::HDR_NUM_BUFFERS], hdr[net::HDR_NUM_BUFFERS + 1]]);
        let gso = hdr[net::HDR_GSO_TYPE];
        if gso != net::GSO_NONE {
            // No GSO feature was negotiated: the device must not send such a packet.
            self.skip_rest(num_buffers);
            return self.rx_error(alloc::format!("received header with gso_type {} (no GSO negotiated); dropped", gso));
        }
        let n = if self.cfg.mergeable { num_buffers } else { 1 };
        if n == 0 || n > self.cfg.rx_buffers {
            return self.rx_error(alloc::format!("received header with num_buffers {} (1..{} buffers are posted); dropped", num_buffers, self.cfg.rx_buffers));
        }
        let bytes = len - HDR_LEN;
        if bytes > max {
            self.skip_rest(n);
            return self.rx_error(alloc::format!("received frame of {} bytes exceeds {}; dropped", bytes, max));
        }
        self.frame.clear();
        self.frame.extend_from_slice(&self.rx_slab[start + HDR_LEN..start + len]);
        if n > 1 {
            self.gather = Some(Gather { remaining: n - 1, bad: false });
            return;
        }
        self.frame_done();
    }

    /// Ignores the other buffers of a dropped merged frame.
    fn skip_rest(&mut self, num_buffers: u16) {
        if self.cfg.mergeable && num_buffers > 1 && num_buffers <= self.cfg.rx_buffers {
            self.gather = Some(Gather { remaining: num_buffers - 1, bad: true });
        }
    }

    fn rx_error(&mut self, what: alloc::string::String) {
        self.counters.rx_errors += 1;
        if self.counters.rx_errors <= LOG_FIRST {
            error!("{}", what);
        }
    }

    /// `frame` holds a whole received frame: to a waiting reader, the backlog, or dropped.
    fn frame_done(&mut self) {
        let len = self.frame.len();
        if len < ETH_HLEN {
            return self.rx_error(alloc::format!("received frame of {} bytes is shorter than an Ethernet header; dropped", len));
        }
        if !self.up {
            self.counters.rx_dropped += 1;
            return;
        }
        self.counters.rx_frames += 1;
        self.counters.rx_bytes += len as u64;
        if let Some(r) = self.readers.pop_front() {
            let n = len.min(r.len());
            r.copy_to_client(0, &self.frame[..n]);
            return r.reply(Ok(n));
        }
        if self.backlog.len() >= MAX_BACKLOG {
            self.counters.rx_frames -= 1;
            self.counters.rx_bytes -= len as u64;
            self.counters.rx_dropped += 1;
            if self.counters.rx_dropped <= LOG_FIRST {
                warn!("{} received frames wait for a reader; frame dropped", MAX_BACKLOG);
            }
            return;
        }
        self.backlog.push_back(self.frame.clone());
    }

    // ---- transmit

    /// Copies the frame of write `req` into a free transmit buffer and makes it available (no notification).
    fn transmit(&mut self, vq: &mut VirtQueue, req: &Request) -> bool {
        let slot = match self.tx_free.last() {
            Some(&s) if vq.can_add(1) => s,
            _ => return false,
        };
        let len = req.len();
        let at = slot as usize * self.tx_stride;
        let buf = &mut self.tx_slab[at..at + HDR_LEN + len];
        // virtio_net_hdr: flags 0 (the frame's checksums are complete), gso_type NONE, num_buffers 0 on transmit.
        buf[..HDR_LEN].fill(0);
        let got = req.copy_from_client(0, &mut buf[HDR_LEN..]);
        if got != len {
            warn!("write: copied {} of {} bytes from the client", got, len);
        }
        let addr = self.tx_slab.physical() + at as u64;
        let head = vq.add(&[Buf::readable(addr, (HDR_LEN + len) as u32)]).expect("room was checked");
        self.tx_free.pop();
        self.tx_posted[head as usize] = Some(slot);
        self.counters.tx_frames += 1;
        self.counters.tx_bytes += len as u64;
        true
    }

    /// Frees the transmit buffers of chains the device finished sending.
    fn collect_tx(&mut self, vq: &mut VirtQueue) {
        while let Some(u) = vq.pop_used() {
            match self.tx_posted.get_mut(u.head as usize).and_then(|s| s.take()) {
                Some(slot) => self.tx_free.push(slot),
                None => error!("transmitq: used chain {} carries no transmit buffer", u.head),
            }
        }
    }

    /// Frees what the device finished sending; waiting writes go out in order while there is room.
    pub fn reap_tx(&mut self, t: &Transport, vq: &mut VirtQueue) {
        loop {
            self.collect_tx(vq);
            if !vq.enable_interrupts() {
                break;
            }
        }
        let mut sent = false;
        while let Some(r) = self.writers.pop_front() {
            if !self.link_up {
                r.reply(Err(Error::new(ENETDOWN)));
                continue;
            }
            if !self.transmit(vq, &r) {
                self.writers.push_front(r);
                break;
            }
            sent = true;
            let n = r.len();
            r.reply(Ok(n));
        }
        if sent {
            vq.kick(t);
        }
    }

    // ---- link and device state

    /// The link went up or down (config.status LINK_UP); writes waiting fail with ENETDOWN when it went down.
    pub fn set_link(&mut self, up: bool) {
        if up == self.link_up {
            return;
        }
        self.link_up = up;
        if up {
            info!("link up");
        } else {
            let n = self.writers.len();
            for r in self.writers.drain(..) {
                r.reply(Err(Error::new(ENETDOWN)));
            }
            info!("link down{}", if n > 0 { alloc::format!(" ({} waiting write(s) failed with ENETDOWN)", n) } else { alloc::string::String::new() });
        }
    }

    /// After a device reset: every buffer is the driver's again (the rings were emptied).
    pub fn reset_rings(&mut self) {
        for s in self.rx_posted.iter_mut() {
            *s = None;
        }
        self.rx_free = (0..self.cfg.rx_buffers).rev().collect();
        self.gather = None;
        for s in self.tx_posted.iter_mut() {
            *s = None;
        }
        self.tx_free = (0..self.tx_posted.len() as u16).rev().collect();
    }

    // ---- the scheme

    /// Answers `req` now, or keeps it (a read waiting for a frame, a write for a transmit buffer).
    pub fn handle(&mut self, t: &Transport, tx: &mut VirtQueue, req: Request) {
        match req.op() {
            Op::Open => {
                let h = match req.path() {
                    "" => Handle::Frames { nonblocking: req.flags() & O_NONBLOCK != 0 },
                    "mac" => Handle::Mac,
                    _ => return req.reply(Err(Error::new(ENOENT))),
                };
                if matches!(h, Handle::Frames { .. }) && !self.up {
                    self.up = true;
                    info!("interface up");
                }
                let id = self.next_handle;
                self.next_handle += 1;
                self.handles.insert(id, h);
                req.reply(Ok(id));
            }
            Op::Close => {
                let h = match self.handles.remove(&req.handle()) {
                    Some(h) => h,
                    None => return req.reply(Err(Error::new(EINVAL))),
                };
                if matches!(h, Handle::Frames { .. }) && self.up && !self.handles.values().any(|h| matches!(h, Handle::Frames { .. })) {
                    self.up = false;
                    self.backlog.clear();
                    for r in self.readers.drain(..).chain(self.writers.drain(..)) {
                        r.reply(Err(Error::new(ENETDOWN)));
                    }
                    let c = self.counters;
                    info!("interface down: {} frames received ({} merged, {} dropped, {} bad), {} sent ({} found the transmit ring full)",
                        c.rx_frames, c.rx_merged, c.rx_dropped, c.rx_errors, c.tx_frames, c.tx_busy);
                }
                req.reply(Ok(0));
            }
            Op::Fsize => {
                let ok = self.handles.contains_key(&req.handle());
                req.reply(if ok { Ok(0) } else { Err(Error::new(EINVAL)) });
            }
            Op::Read => match self.handles.get(&req.handle()).copied() {
                Some(Handle::Mac) => {
                    let off = (req.offset() as usize).min(ETH_ALEN);
                    let n = (ETH_ALEN - off).min(req.len());
                    req.copy_to_client(0, &self.cfg.mac[off..off + n]);
                    req.reply(Ok(n));
                }
                Some(Handle::Frames { nonblocking }) => {
                    if self.readers.is_empty() {
                        if let Some(f) = self.backlog.pop_front() {
                            let n = f.len().min(req.len());
                            req.copy_to_client(0, &f[..n]);
                            return req.reply(Ok(n));
                        }
                    }
                    if nonblocking {
                        req.reply(Err(Error::new(EAGAIN)));
                    } else {
                        self.readers.push_back(req);
                    }
                }
                None => req.reply(Err(Error::new(EINVAL))),
            },
            Op::Write => {
                let nonblocking = match self.handles.get(&req.handle()) {
                    Some(Handle::Frames { nonblocking }) => *nonblocking,
                    _ => return req.reply(Err(Error::new(EINVAL))),
                };
                let len = req.len();
                if len < ETH_HLEN {
                    return req.reply(Err(Error::new(EINVAL)));
                }
                if len > ETH_HLEN + self.cfg.mtu as usize {
                    return req.reply(Err(Error::new(EMSGSIZE)));
                }
                if !self.link_up {
                    return req.reply(Err(Error::new(ENETDOWN)));
                }
                if self.writers.is_empty() {
                    if self.tx_free.is_empty() || !tx.can_add(1) {
                        // Completions not taken yet by the interrupt thread free buffers too.
                        self.collect_tx(tx);
                    }
                    if self.transmit(tx, &req) {
                        tx.kick(t);
                        return req.reply(Ok(len));
                    }
                }
                self.counters.tx_busy += 1;
                if nonblocking {
                    req.reply(Err(Error::new(EAGAIN)));
                } else {
                    self.writers.push_back(req);
                }
            }
            Op::Other(_) => req.reply(Err(Error::new(EINVAL))),
        }
    }
}
