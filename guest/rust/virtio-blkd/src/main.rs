//! virtio-blkd: a virtio-blk driver daemon in the shape of Redox's
//! virtio-blkd, on the redox-driver and virtio-core crates. It takes its PCI
//! function from pcid, finds the virtio structures, resets the device and
//! negotiates features (VERSION_1, SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, MQ
//! with ioQueues > 1, and INDIRECT_DESC / EVENT_IDX unless turned off),
//! reads the device configuration, sets up the request queue(s) with MSI-X
//! (configuration changes on vector 0, one vector per queue after it) or
//! INTx (the ISR tells queue from configuration interrupts), each vector
//! waited on in a thread of its own, sets DRIVER_OK, logs the GET_ID serial
//! and serves `disk.virtio` (scheme.rs).
//!
//! A watchdog thread fails requests that miss their deadline (ioTimeoutMs)
//! with EIO. DEVICE_NEEDS_RESET (configuration interrupt, or noticed by the
//! watchdog) fails every request in flight with EIO and resets and
//! re-initialises the device.
//!
//! Parameters: irqMode (auto, msix, intx), ioQueues, queueDepth,
//! ioTimeoutMs, indirectDesc, eventIdx.
#![no_std]

extern crate alloc;

mod blk;
mod pool;
mod scheme;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::error::{ENODEV, ETIMEDOUT};
use redox_driver::time::Instant;
use redox_driver::{error, info, thread, time, warn, Condvar, Error, Irq, Mutex, PciFunctionHandle, Result, Socket};
use virtio_core::spec::{self, F_EVENT_IDX, F_INDIRECT_DESC, F_VERSION_1, MSI_NO_VECTOR};
use virtio_core::{setup_interrupts, InterruptMethod, Interrupts, Transport, VirtQueue};

use scheme::{DiskScheme, Geometry};

redox_driver::driver_main!(main);

/// Largest data transfer of one request (bounce buffers are this big at most).
const MAX_TRANSFER: usize = 256 * 1024;
/// How long a reset may take to read back 0.
const RESET_TIMEOUT: Duration = Duration::from_millis(100);
/// How long GET_ID may take at start.
const GET_ID_TIMEOUT: Duration = Duration::from_millis(1000);

/// The driver's state: the interrupt threads, the watchdog and the scheme loop take turns on it.
struct Driver {
    t: Transport,
    vqs: Vec<VirtQueue>,
    disk: DiskScheme,
    /// Features negotiated (the same set is negotiated again after a reset).
    features: u64,
    /// MSI-X entry of configuration changes (MSI_NO_VECTOR: none or INTx).
    config_vector: u16,
    msix: bool,
}

struct Shared {
    state: Mutex<Driver>,
    /// Signalled when GET_ID completed.
    id_done: Condvar,
    /// Wakes the watchdog when I/O starts while it sleeps without a deadline.
    watchdog: Condvar,
    io_timeout_ms: u64,
}

struct Params {
    irq_mode: i32,
    io_queues: u16,
    queue_depth: u16,
    io_timeout_ms: u64,
    indirect: bool,
    event_idx: bool,
}

fn main() -> Result<()> {
    let p = Params {
        irq_mode: redox_driver::param_int("irqMode", virtio_core::IRQ_AUTO),
        io_queues: redox_driver::param_int("ioQueues", 1).clamp(1, 16) as u16,
        queue_depth: redox_driver::param_int("queueDepth", 128).clamp(2, 32768) as u16,
        io_timeout_ms: redox_driver::param_int("ioTimeoutMs", 30_000).max(1) as u64,
        indirect: redox_driver::param_int("indirectDesc", 1) != 0,
        event_idx: redox_driver::param_int("eventIdx", 1) != 0,
    };
    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("virtio-blkd {}: virtio block device {:04x}:{:04x}", func.name(), func.vendor, func.device);
    if func.vendor != spec::PCI_VENDOR || func.device != spec::PCI_DEVICE_MODERN_BASE + blk::VIRTIO_ID_BLOCK {
        error!("not a modern virtio block device");
        return Err(Error::new(ENODEV));
    }
    pcid.enable_device()?;
    let t = Transport::probe(&mut pcid)?;
    t.begin_init(RESET_TIMEOUT)?;
    match start(&mut pcid, t, &p) {
        Ok(()) => Ok(()),
        Err((t, e)) => {
            if let Some(t) = t {
                t.fail();
            }
            Err(e)
        }
    }
}

/// Everything after ACKNOWLEDGE | DRIVER; on an error the transport comes back (to set FAILED) if it is still ours.
fn start(pcid: &mut PciFunctionHandle, t: Transport, p: &Params) -> core::result::Result<(), (Option<Transport>, Error)> {
    let mut wanted = F_VERSION_1 | blk::F_SIZE_MAX | blk::F_SEG_MAX | blk::F_BLK_SIZE | blk::F_FLUSH;
    if p.io_queues > 1 {
        wanted |= blk::F_MQ;
    }
    if p.indirect {
        wanted |= F_INDIRECT_DESC;
    }
    if p.event_idx {
        wanted |= F_EVENT_IDX;
    }
    // negotiate sets FAILED itself when the device refuses.
    let features = t.negotiate(wanted, 0).map_err(|e| (None, e))?;
    info!("features {:#x}: {}", features, feature_names(features));

    let geo = match read_config(&t, features) {
        Ok(c) => c,
        Err(e) => return Err((Some(t), e)),
    };
    let nq = if features & blk::F_MQ != 0 { p.io_queues.min(geo.1.max(1)) } else { 1 };
    let mut irqs = match setup_interrupts(pcid, p.irq_mode, nq) {
        Ok(i) => i,
        Err(e) => return Err((Some(t), e)),
    };
    let queues = (|| -> Result<(Vec<VirtQueue>, Geometry)> {
        // Segments of a request: data descriptors + header + status; with INDIRECT_DESC each takes one descriptor.
        let cfg = geo.0;
        let mut vqs = Vec::new();
        for q in 0..nq {
            let indirect_max = (cfg.segments(cfg.max_transfer) + 2) as u16;
            vqs.push(VirtQueue::new(&t, q, p.queue_depth, features, indirect_max)?);
        }
        // Without indirect tables a request's chain must fit the ring.
        let mut cfg = cfg;
        if vqs[0].indirect_max() == 0 {
            let segs = (vqs[0].size() as usize).saturating_sub(2).max(1);
            cfg.max_transfer = cfg.max_transfer.min(segs * cfg.seg_bytes) / cfg.block_size as usize * cfg.block_size as usize;
        }
        irqs.map_vectors(&t, &mut vqs)?;
        for vq in vqs.iter_mut() {
            vq.enable_interrupts();
            vq.enable(&t);
        }
        Ok((vqs, cfg))
    })();
    let (vqs, geo) = match queues {
        Ok(v) => v,
        Err(e) => return Err((Some(t), e)),
    };
    t.driver_ok();
    info!("interrupts: {}, {} vector(s)", irqs.method.name(), irqs.irqs.len());
    info!("{} request queue(s) of {} entries{}{}, {} KiB per request",
        vqs.len(), vqs[0].size(), if vqs[0].indirect_max() > 0 { ", indirect descriptors" } else { "" },
        if vqs[0].event_idx() { ", event index" } else { "" }, geo.max_transfer / 1024);

    let disk = match DiskScheme::new(geo, &vqs, p.io_timeout_ms) {
        Ok(d) => d,
        Err(e) => return Err((Some(t), e)),
    };
    let msix = irqs.method == InterruptMethod::MsiX;
    let shared = Arc::new(Shared {
        state: Mutex::new(Driver { t, vqs, disk, features, config_vector: irqs.config_vector, msix }),
        id_done: Condvar::new(), watchdog: Condvar::new(), io_timeout_ms: p.io_timeout_ms,
    });
    spawn_irq_threads(&shared, &mut irqs).map_err(|e| (None, e))?;
    let s = shared.clone();
    thread::spawn("virtio-blk-watchdog", move || watchdog(&s)).map_err(|e| (None, e))?;

    log_serial(&shared);
    serve(&shared).map_err(|e| (None, e))
}

/// Capacity, segment limits and block size from the device configuration (5.2.4), and num_queues with MQ.
fn read_config(t: &Transport, features: u64) -> Result<(Geometry, u16)> {
    let (capacity, size_max, seg_max, blk_size, num_queues) = t.read_config(|c| {
        (
            c.read64(blk::CFG_CAPACITY),
            if features & blk::F_SIZE_MAX != 0 { c.read32(blk::CFG_SIZE_MAX) } else { 0 },
            if features & blk::F_SEG_MAX != 0 { c.read32(blk::CFG_SEG_MAX) } else { 0 },
            if features & blk::F_BLK_SIZE != 0 { c.read32(blk::CFG_BLK_SIZE) } else { 0 },
            if features & blk::F_MQ != 0 { c.read16(blk::CFG_NUM_QUEUES) } else { 1 },
        )
    })?;
    let block_size = if blk_size >= 512 && blk_size.is_power_of_two() && blk_size <= 65536 { blk_size as u64 } else { blk::SECTOR_SIZE };
    let bs = block_size as usize;
    // A segment: size_max rounded down to whole blocks (at least one block).
    let seg_bytes = if size_max > 0 { (size_max as usize / bs * bs).max(bs) } else { MAX_TRANSFER };
    let segs = if seg_max > 0 { seg_max as usize } else { usize::MAX / MAX_TRANSFER };
    let max_transfer = seg_bytes.saturating_mul(segs).min(MAX_TRANSFER) / bs * bs;
    let geo = Geometry { capacity, block_size, max_transfer: max_transfer.max(bs), seg_bytes: seg_bytes.min(MAX_TRANSFER), flush: features & blk::F_FLUSH != 0 };
    info!("capacity {} sectors ({} MiB), block size {}, size_max {}, seg_max {}{}",
        capacity, capacity * blk::SECTOR_SIZE / (1024 * 1024), block_size, size_max, seg_max,
        if features & blk::F_MQ != 0 { format!(", {} queue(s)", num_queues) } else { String::new() });
    Ok((geo, num_queues))
}

fn feature_names(f: u64) -> String {
    let blk_names = [
        (blk::F_SIZE_MAX, "SIZE_MAX"), (blk::F_SEG_MAX, "SEG_MAX"), (blk::F_GEOMETRY, "GEOMETRY"), (blk::F_RO, "RO"),
        (blk::F_BLK_SIZE, "BLK_SIZE"), (blk::F_FLUSH, "FLUSH"), (blk::F_TOPOLOGY, "TOPOLOGY"), (blk::F_CONFIG_WCE, "CONFIG_WCE"),
        (blk::F_MQ, "MQ"), (blk::F_DISCARD, "DISCARD"), (blk::F_WRITE_ZEROES, "WRITE_ZEROES"),
    ];
    let mut out: Vec<&str> = Vec::new();
    for bit in 0..64u32 {
        if f & (1u64 << bit) == 0 {
            continue;
        }
        if let Some(n) = spec::transport_feature_name(bit).or_else(|| blk_names.iter().find(|(m, _)| *m == 1u64 << bit).map(|(_, n)| *n)) {
            out.push(n);
        }
    }
    out.join(" ")
}

fn spawn_irq_threads(shared: &Arc<Shared>, irqs: &mut Interrupts) -> Result<()> {
    let intx = irqs.method == InterruptMethod::Intx;
    for (v, irq) in core::mem::take(&mut irqs.irqs).into_iter().enumerate() {
        let queues = irqs.queues_of(v);
        let config = irqs.serves_config(v);
        let s = shared.clone();
        thread::spawn(&format!("virtio-blk-irq{}", v), move || irq_thread(&s, irq, v, queues, config, intx))?;
    }
    Ok(())
}

/// Waits on one vector: reaps the queues it serves and handles configuration changes (MSI-X), or reads the ISR to learn which (INTx).
fn irq_thread(s: &Shared, irq: Irq, vector: usize, queues: Vec<usize>, config: bool, intx: bool) {
    loop {
        if let Err(e) = irq.wait() {
            error!("irq thread {}: wait failed: {}", vector, e);
            return;
        }
        let (wake, id) = {
            let mut g = s.state.lock();
            let (do_queues, do_config) = if intx {
                let isr = g.t.read_isr();
                (isr.queue(), isr.config())
            } else {
                (!queues.is_empty(), config)
            };
            if do_config {
                config_changed(&mut g);
            }
            if do_queues {
                for &q in &queues {
                    reap(&mut g, q);
                }
            }
            (core::mem::take(&mut g.disk.wake_watchdog), core::mem::take(&mut g.disk.id_done))
        };
        if id {
            s.id_done.notify_all();
        }
        if wake {
            s.watchdog.notify_one();
        }
        // A legacy line stays masked until acknowledged; reading the ISR above deasserted it.
        let _ = irq.ack();
    }
}

/// Completes what queue `q` returned, asks for the next interrupt, and refills it.
fn reap(g: &mut Driver, q: usize) {
    let Driver { t, vqs, disk, .. } = g;
    loop {
        while let Some(u) = vqs[q].pop_used() {
            disk.complete(q, u);
        }
        // With EVENT_IDX: used_event = what was reaped; true if more arrived meanwhile.
        if !vqs[q].enable_interrupts() {
            break;
        }
    }
    disk.submit(t, vqs, q);
}

/// A configuration change interrupt: DEVICE_NEEDS_RESET is the one this driver acts on (capacity changes are not followed).
fn config_changed(g: &mut Driver) {
    let status = g.t.status();
    if status & spec::STATUS_DEVICE_NEEDS_RESET != 0 {
        recover(g, status);
    }
}

/// DEVICE_NEEDS_RESET (2.1.2): the device processes nothing until reset.
/// Every request in flight fails with EIO; the device is reset and set up
/// again with the same features and queues (or, if that fails, every later
/// request fails with EIO).
fn recover(g: &mut Driver, status: u8) {
    let failed = g.disk.fail_all();
    error!("device needs reset (device_status {}): failed {} request(s) with EIO; resetting the device", spec::status_names(status), failed);
    let r = (|| -> Result<()> {
        g.t.begin_init(RESET_TIMEOUT)?;
        let f = g.t.negotiate(g.features, g.features)?;
        if f != g.features {
            error!("features after reset {:#x} differ from {:#x}", f, g.features);
            return Err(Error::new(ENODEV));
        }
        if g.msix && g.config_vector != MSI_NO_VECTOR {
            g.t.set_config_vector(g.config_vector)?;
        }
        for vq in g.vqs.iter_mut() {
            vq.reinit(&g.t)?;
            vq.enable_interrupts();
            vq.enable(&g.t);
        }
        g.t.driver_ok();
        Ok(())
    })();
    match r {
        Ok(()) => info!("device re-initialised after reset"),
        Err(e) => {
            error!("device re-initialisation failed ({}): every request fails with EIO", e);
            g.t.fail();
            g.disk.dead = true;
        }
    }
}

/// Fails requests past their deadline: sleeps until the earliest deadline of
/// what is in flight, or without one (woken by the next submission).
fn watchdog(s: &Shared) {
    let mut g = s.state.lock();
    loop {
        let now = time::clock_ns();
        let (expired, next) = g.disk.expired(now);
        if !expired.is_empty() {
            for t in &expired {
                g.disk.fail_timed_out(t, s.io_timeout_ms);
            }
            // A device that stopped may need a reset without telling (no configuration vector).
            let status = g.t.status();
            if status & spec::STATUS_DEVICE_NEEDS_RESET != 0 {
                recover(&mut g, status);
            } else {
                warn!("{} request(s) timed out; the device's status is {} (no reset needed)", expired.len(), spec::status_names(status));
            }
            continue;
        }
        match next {
            Some(deadline) => g = s.watchdog.wait_timeout(g, Duration::from_nanos(deadline - now)).0,
            None => {
                g.disk.watchdog_idle = true;
                g = s.watchdog.wait(g);
            }
        }
    }
}

/// GET_ID (5.2.6): the device's id string, logged.
fn log_serial(s: &Shared) {
    let mut g = s.state.lock();
    {
        let Driver { t, vqs, disk, .. } = &mut *g;
        disk.get_id(t, vqs);
    }
    let deadline = Instant::now().checked_add(GET_ID_TIMEOUT).unwrap();
    loop {
        match g.disk.id.take() {
            Some(Ok(id)) => {
                let n = id.iter().position(|&b| b == 0).unwrap_or(id.len());
                let serial: String = id[..n].iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '?' }).collect();
                info!("serial \"{}\"", serial);
                return;
            }
            Some(Err(status)) => return warn!("GET_ID failed: {}", blk::status_name(status)),
            None => {}
        }
        let left = deadline.remaining();
        if left.is_zero() {
            return warn!("GET_ID: no answer after {} ms ({})", GET_ID_TIMEOUT.as_millis(), Error::new(ETIMEDOUT));
        }
        g = s.id_done.wait_timeout(g, left).0;
    }
}

fn serve(shared: &Shared) -> Result<()> {
    let mut socket = Socket::create("disk.virtio")?;
    info!("serving disk.virtio: (disk.virtio:0)");
    socket.serve(|req| {
        let mut g = shared.state.lock();
        let Driver { t, vqs, disk, .. } = &mut *g;
        disk.handle(t, vqs, req);
        let wake = core::mem::take(&mut disk.wake_watchdog);
        drop(g);
        if wake {
            shared.watchdog.notify_one();
        }
    })
}
