//! nvmed: an NVMe driver daemon in the shape of Redox's nvmed, on the
//! redox-driver crate. It takes its PCI function from pcid, maps BAR0,
//! disables the controller, sets up the admin queue, picks MSI-X (one vector
//! per queue), MSI or INTx and waits on each `irq:` handle in a thread of its
//! own, enables the controller, identifies it and its namespaces, creates
//! I/O queue pairs, and serves `disk.nvme` (scheme.rs).
//!
//! A watchdog thread aborts I/O commands that miss their deadline
//! (ioTimeoutMs): the controller completes an aborted command with Command
//! Abort Requested and only its request fails (EIO).
//!
//! Parameters: irqMode (auto, msix, msi, intx), ioQueues, queueDepth,
//! adminTimeoutMs, ioTimeoutMs.
#![no_std]

extern crate alloc;

mod nvme;
mod pool;
mod scheme;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::{error, info, thread, time, warn, Condvar, Dma, Error, Irq, Mutex, PciFunctionHandle, Result, Socket};
use redox_driver::error::{EIO, ENODEV, ETIMEDOUT};
use redox_driver::time::Instant;

use nvme::cmd::{self, NvmeCmd};
use nvme::identify::{namespace_list, IdentifyController, IdentifyNamespace};
use nvme::queues::NvmeComp;
use nvme::{regs, AdminResult, Nvme};
use scheme::{DiskScheme, Namespace, TimedOut};

redox_driver::driver_main!(main);

/// irqMode's values, in the registry's order.
const IRQ_AUTO: i32 = 0;
const IRQ_MSIX: i32 = 1;
const IRQ_MSI: i32 = 2;
const IRQ_INTX: i32 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum InterruptMethod {
    MsiX,
    Msi,
    Intx,
}

impl InterruptMethod {
    fn name(self) -> &'static str {
        match self {
            InterruptMethod::MsiX => "msix",
            InterruptMethod::Msi => "msi",
            InterruptMethod::Intx => "legacy",
        }
    }
}

/// The driver's state: the interrupt threads and the scheme loop take turns on it.
struct Driver {
    nvme: Nvme,
    disk: Option<DiskScheme>,
}

struct Shared {
    state: Mutex<Driver>,
    /// Signalled when an admin command completes.
    admin_done: Condvar,
    /// Wakes the watchdog when I/O starts while it sleeps without a deadline.
    watchdog: Condvar,
    method: InterruptMethod,
}

fn main() -> Result<()> {
    let irq_mode = redox_driver::param_int("irqMode", IRQ_AUTO);
    let io_queues = redox_driver::param_int("ioQueues", 2).clamp(1, 64) as u16;
    let queue_depth = redox_driver::param_int("queueDepth", 64).clamp(2, 65536) as u32;
    let admin_timeout = Duration::from_millis(redox_driver::param_int("adminTimeoutMs", 2000).max(1) as u64);
    let io_timeout_ms = redox_driver::param_int("ioTimeoutMs", 30_000).max(1) as u64;

    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("nvmed {}: NVMe controller {:04x}:{:04x}", func.name(), func.vendor, func.device);
    pcid.enable_device()?;
    let bar = pcid.map_bar(0)?;

    let cap = regs::CAP.read(&bar);
    if cap == u64::MAX {
        error!("CAP reads all ones: device not responding");
        return Err(Error::new(EIO));
    }
    let mqes = regs::cap_mqes(cap);
    let timeout_ms = regs::cap_timeout_ms(cap);
    let vs = regs::VS.read(&bar);
    info!("NVMe {}.{}, MQES {}, CAP.TO {} ms, DSTRD {}", vs >> 16, (vs >> 8) & 0xff, mqes, timeout_ms, regs::cap_dstrd(cap));

    // Disable first (NVMe 1.4, 7.6.1): CC.EN = 0, then CSTS.RDY = 0.
    let cc = regs::CC.read(&bar);
    if cc & regs::CC_EN != 0 {
        regs::CC.write(&bar, cc & !regs::CC_EN);
    }
    wait_ready(|| regs::CSTS.read(&bar), false, timeout_ms)?;

    let nvme = Nvme::new(bar, cap, mqes.min(32) as u16)?;
    nvme.set_admin_queue();

    let (method, irqs) = interrupts(&mut pcid, irq_mode, 1 + io_queues)?;
    let nvec = irqs.len();
    info!("interrupts: {}, {} vector(s)", method.name(), nvec);
    let shared = Arc::new(Shared { state: Mutex::new(Driver { nvme, disk: None }), admin_done: Condvar::new(), watchdog: Condvar::new(), method });
    for (vector, irq) in irqs.into_iter().enumerate() {
        let s = shared.clone();
        thread::spawn(&format!("nvme-irq{}", vector), move || irq_thread(&s, irq, vector as u16))?;
    }

    regs::CC.write(&shared.state.lock().nvme.bar,
        regs::CC_EN | regs::CC_CSS_NVM | regs::CC_MPS_4K | regs::CC_AMS_RR | regs::CC_IOSQES | regs::CC_IOCQES);
    wait_ready(|| regs::CSTS.read(&shared.state.lock().nvme.bar), true, timeout_ms)?;
    info!("controller ready");

    let namespaces = identify(&shared, admin_timeout)?;

    // Number of Queues (5.21.1.7): with MSI-X one vector per I/O queue besides the admin queue's.
    let want = if method == InterruptMethod::MsiX { io_queues.min((nvec as u16).saturating_sub(1).max(1)) } else { io_queues };
    let nq = admin(&shared, NvmeCmd::set_num_queues(want), "Set Features (Number of Queues)", admin_timeout)?;
    let granted = (((nq.dw0 & 0xffff) + 1) as u16).min(((nq.dw0 >> 16) + 1) as u16).min(want);
    let depth = queue_depth.min(mqes) as u16;
    for qid in 1..=granted {
        let vector = if method == InterruptMethod::MsiX && nvec > 1 { (qid - 1) % (nvec as u16 - 1) + 1 } else { 0 };
        create_io_queue(&shared, depth, vector, admin_timeout)?;
    }
    info!("{} I/O queue pair(s) of {} entries", granted, depth);

    {
        let mut g = shared.state.lock();
        let disk = DiskScheme::new(&g.nvme, namespaces, io_timeout_ms)?;
        g.disk = Some(disk);
    }
    let s = shared.clone();
    thread::spawn("nvme-watchdog", move || watchdog(&s, admin_timeout))?;
    let mut socket = Socket::create("disk.nvme")?;
    {
        let g = shared.state.lock();
        let names: Vec<_> = g.disk.as_ref().map(|d| d.namespaces.keys().map(|n| format!("disk.nvme:{}", n)).collect()).unwrap_or_default();
        info!("serving disk.nvme: ({})", names.join(", "));
    }
    socket.serve(|req| {
        let mut g = shared.state.lock();
        let Driver { nvme, disk } = &mut *g;
        let wake = match disk {
            Some(d) => {
                d.handle(nvme, req);
                core::mem::take(&mut d.wake_watchdog)
            }
            None => {
                req.reply(Err(Error::new(ENODEV)));
                false
            }
        };
        drop(g);
        if wake {
            shared.watchdog.notify_one();
        }
    })
}

/// Aborts I/O commands past their deadline (as blk-mq's timeout handler and
/// nvme_timeout): sleeps until the earliest deadline of what is in flight,
/// or without one (woken by the next submission) when nothing is.
fn watchdog(s: &Shared, admin_timeout: Duration) {
    let mut g = s.state.lock();
    loop {
        let now = time::clock_ns();
        let (expired, next) = match g.disk.as_mut() {
            Some(d) => d.expired(now),
            None => return,
        };
        if !expired.is_empty() {
            drop(g);
            for t in &expired {
                abort(s, t, admin_timeout);
            }
            g = s.state.lock();
            continue;
        }
        match next {
            Some(deadline) => g = s.watchdog.wait_timeout(g, Duration::from_nanos(deadline - now)).0,
            None => {
                if let Some(d) = g.disk.as_mut() {
                    d.watchdog_idle = true;
                }
                g = s.watchdog.wait(g);
            }
        }
    }
}

/// Aborts one timed-out command (NVMe 1.4, 5.1). An aborted command completes on its queue with
/// Command Abort Requested and its request fails; one the controller does not abort is failed here.
fn abort(s: &Shared, t: &TimedOut, timeout: Duration) {
    if !s.state.lock().disk.as_ref().map_or(false, |d| d.still_in_flight(t)) {
        return;
    }
    warn!("I/O {} QID {} timeout, aborting", t.cid, t.qid);
    let r = admin(s, NvmeCmd::abort(t.qid, t.cid), &format!("Abort (cid {}, QID {})", t.cid, t.qid), timeout);
    let mut g = s.state.lock();
    let d = match g.disk.as_mut() { Some(d) => d, None => return };
    if !d.still_in_flight(t) {
        return; // the abort completed it
    }
    if matches!(r, Ok(AdminResult { dw0, .. }) if dw0 & 1 == 0) {
        return; // aborted: its completion is on the way
    }
    error!("I/O {} QID {} was not aborted by the controller; failing it (a controller reset is needed to reuse the slot)", t.cid, t.qid);
    d.abandon(t);
}

/// Polls CSTS.RDY for `ready` up to CAP.TO in 1 ms steps (as nvme_wait_ready).
fn wait_ready<F: Fn() -> u32>(csts: F, ready: bool, timeout_ms: u64) -> Result<()> {
    let deadline = Instant::now().checked_add(Duration::from_millis(timeout_ms)).unwrap();
    loop {
        let v = csts();
        if v == u32::MAX {
            error!("CSTS reads all ones: device gone");
            return Err(Error::new(EIO));
        }
        if ready && v & regs::CSTS_CFS != 0 {
            error!("controller fatal status (CSTS.CFS) while enabling");
            return Err(Error::new(EIO));
        }
        if (v & regs::CSTS_RDY != 0) == ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            error!("timed out after {} ms waiting for CSTS.RDY={} (CSTS={:#x})", timeout_ms, ready as u8, v);
            return Err(Error::new(ETIMEDOUT));
        }
        time::sleep_ms(1);
    }
}

/// MSI-X if the function has it (and irqMode allows), else MSI, else the legacy line.
fn interrupts(pcid: &mut PciFunctionHandle, mode: i32, want: u16) -> Result<(InterruptMethod, Vec<Irq>)> {
    let func = pcid.config().clone();
    if (mode == IRQ_AUTO || mode == IRQ_MSIX) && func.has_msix {
        if let Some(size) = pcid.msix_table_size() {
            return Ok((InterruptMethod::MsiX, pcid.enable_msix(want.min(size))?));
        }
    }
    if (mode == IRQ_AUTO || mode == IRQ_MSI) && func.has_msi {
        return Ok((InterruptMethod::Msi, alloc::vec![pcid.enable_msi()?]));
    }
    if (mode == IRQ_AUTO || mode == IRQ_INTX) && func.legacy_interrupt_pin != 0 {
        return Ok((InterruptMethod::Intx, alloc::vec![pcid.legacy_irq()?]));
    }
    error!("no interrupt vectors of the requested kind (irqMode {})", ["auto", "msix", "msi", "intx"].get(mode as usize).unwrap_or(&"?"));
    Err(Error::new(ENODEV))
}

/// Waits on one vector and reaps the queues it serves: the admin queue on
/// vector 0, each I/O queue on its own (MSI-X), or all of them (MSI, INTx).
fn irq_thread(s: &Shared, irq: Irq, vector: u16) {
    let all = s.method != InterruptMethod::MsiX;
    let mut scratch: Vec<NvmeComp> = Vec::with_capacity(64);
    loop {
        if let Err(e) = irq.wait() {
            error!("irq thread {}: wait failed: {}", vector, e);
            return;
        }
        let mut admin_done = false;
        let mut wake = false;
        {
            let mut g = s.state.lock();
            let Driver { nvme, disk } = &mut *g;
            if all || vector == 0 {
                admin_done = nvme.reap_admin(&mut scratch);
            }
            for qi in 0..nvme.io.len() {
                if !all && nvme.io_vector[qi] != vector {
                    continue;
                }
                scratch.clear();
                let Nvme { io, bar, .. } = &mut *nvme;
                if io[qi].reap(bar, &mut scratch) == 0 {
                    continue;
                }
                if let Some(d) = disk.as_mut() {
                    for c in scratch.iter() {
                        d.complete(nvme, qi, c);
                    }
                    d.submit(nvme, qi);
                    wake |= core::mem::take(&mut d.wake_watchdog);
                }
            }
        }
        if admin_done {
            s.admin_done.notify_all();
        }
        if wake {
            s.watchdog.notify_one();
        }
        // A legacy line stays masked until acknowledged; the CQ head doorbells above deasserted it.
        let _ = irq.ack();
    }
}

/// Submits an admin command and waits for its completion (nvme_submit_sync_cmd).
fn admin(s: &Shared, cmd: NvmeCmd, what: &str, timeout: Duration) -> Result<AdminResult> {
    let mut g = s.state.lock();
    let cid = g.nvme.admin_submit(cmd)?;
    let deadline = Instant::now().checked_add(timeout).unwrap();
    loop {
        if let Some(r) = g.nvme.admin_take(cid) {
            if r.status != 0 {
                error!("{}: {}", what, regs::status_name(r.status));
                return Err(Error::new(EIO));
            }
            return Ok(r);
        }
        let left = deadline.remaining();
        if left.is_zero() {
            error!("{}: admin command timed out after {} ms (cid {})", what, timeout.as_millis(), cid);
            return Err(Error::new(ETIMEDOUT));
        }
        g = s.admin_done.wait_timeout(g, left).0;
    }
}

/// Identify Controller, the Active Namespace ID list and each namespace.
fn identify(s: &Shared, timeout: Duration) -> Result<BTreeMap<u32, Namespace>> {
    let buf = Dma::buffer(4096)?;
    admin(s, NvmeCmd::identify(0, cmd::CNS_CONTROLLER, buf.physical()), "Identify Controller", timeout)?;
    let ctrl = IdentifyController::parse(&buf);
    let mdts_bytes = if ctrl.mdts == 0 { 1 << 20 } else { (4096usize << ctrl.mdts).min(1 << 20) };
    s.state.lock().nvme.mdts_bytes = mdts_bytes;
    info!("model \"{}\" serial \"{}\" fw \"{}\", MDTS {} bytes, {} namespace(s)", ctrl.model, ctrl.serial, ctrl.firmware, mdts_bytes, ctrl.nn);

    admin(s, NvmeCmd::identify(0, cmd::CNS_ACTIVE_NS_LIST, buf.physical()), "Identify Active Namespace List", timeout)?;
    let ids = namespace_list(&buf);
    let mut out = BTreeMap::new();
    for nsid in ids {
        admin(s, NvmeCmd::identify(nsid, cmd::CNS_NAMESPACE, buf.physical()), &format!("Identify Namespace {}", nsid), timeout)?;
        let ns = IdentifyNamespace::parse(&buf);
        info!("namespace {}: {} blocks of {} bytes", nsid, ns.blocks, ns.block_size);
        out.insert(nsid, Namespace { nsid, blocks: ns.blocks, block_size: ns.block_size });
    }
    Ok(out)
}

/// Create I/O Completion Queue, then Create I/O Submission Queue (5.3, 5.4).
fn create_io_queue(s: &Shared, depth: u16, vector: u16, timeout: Duration) -> Result<()> {
    let (qid, sq, cq) = {
        let mut g = s.state.lock();
        let q = g.nvme.add_io_queue(depth, vector)?;
        (q.qid, q.sq_phys(), q.cq_phys())
    };
    admin(s, NvmeCmd::create_io_cq(qid, depth, cq, vector), &format!("Create I/O CQ {}", qid), timeout)?;
    admin(s, NvmeCmd::create_io_sq(qid, depth, sq, qid), &format!("Create I/O SQ {}", qid), timeout)?;
    Ok(())
}
