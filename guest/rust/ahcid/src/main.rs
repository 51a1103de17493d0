//! ahcid: an AHCI SATA driver daemon in the shape of Redox's ahcid, on the
//! redox-driver crate. It takes its PCI function (class 01:06:01) from
//! pcid, maps the ABAR (BAR5), takes the HBA from the BIOS (BOHC), resets
//! it, and brings up each implemented port: command list, received FIS area
//! and command tables in DMA memory, FIS reception, spin-up, COMRESET when
//! there is no link, the device's signature, IDENTIFY DEVICE. Ports with
//! an ATA disk are served as `disk.ahci:<n>` (scheme.rs), with NCQ when
//! the disk has it. One interrupt thread (MSI, else INTx) completes
//! commands and recovers ports from errors; a watchdog thread resets a port
//! whose command misses its deadline (ioTimeoutMs).
//!
//! Parameters: irqMode (auto, msi, intx), ncq, queueDepth, maxTransferKiB,
//! ioTimeoutMs, linkTimeoutMs.
#![no_std]

extern crate alloc;

mod ahci;
mod pool;
mod scheme;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::error::{EIO, ENODEV};
use redox_driver::{error, info, thread, time, warn, Condvar, Error, Irq, Mutex, PciFunctionHandle, Result, Socket};

use ahci::ata::{H2dFis, Identify};
use ahci::port::{wait_for, Port, MAX_COMMAND_BYTES};
use ahci::regs::*;
use scheme::{DiskScheme, Why};

redox_driver::driver_main!(main);

/// irqMode's values, in the registry's order.
const IRQ_AUTO: i32 = 0;
const IRQ_MSI: i32 = 1;
const IRQ_INTX: i32 = 2;

struct Shared {
    state: Mutex<DiskScheme>,
    /// Wakes the watchdog when I/O starts while it sleeps without a deadline.
    watchdog: Condvar,
}

fn main() -> Result<()> {
    let irq_mode = redox_driver::param_int("irqMode", IRQ_AUTO);
    let want_ncq = redox_driver::param_int("ncq", 1) != 0;
    let queue_depth = redox_driver::param_int("queueDepth", 32).clamp(1, 32) as u32;
    let max_kib = redox_driver::param_int("maxTransferKiB", 128).clamp(1, 32 * 1024) as usize;
    let io_timeout_ms = redox_driver::param_int("ioTimeoutMs", 30_000).max(1) as u64;
    let link_timeout = Duration::from_millis(redox_driver::param_int("linkTimeoutMs", 10).max(1) as u64);

    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("ahcid {}: AHCI controller {:04x}:{:04x}", func.name(), func.vendor, func.device);
    pcid.enable_device()?;
    let hba = pcid.map_bar(ABAR_BAR)?;

    let cap = hba.read32(CAP);
    if cap == u32::MAX {
        error!("CAP reads all ones: device not responding");
        return Err(Error::new(EIO));
    }
    let vs = hba.read32(VS);

    // AHCI mode (GHC.AE) before anything else (10.1.2 step 1).
    let ghc = hba.read32(GHC);
    if ghc & GHC_AE == 0 {
        hba.write32(GHC, ghc | GHC_AE);
    }

    // BIOS/OS handoff (10.6.3): request ownership, wait for the BIOS to let go.
    if hba.read32(CAP2) & CAP2_BOH != 0 {
        let bohc = hba.read32(BOHC);
        hba.write32(BOHC, bohc | BOHC_OOS);
        let released = wait_for(Duration::from_millis(25), || hba.read32(BOHC) & BOHC_BOS == 0);
        if !released || hba.read32(BOHC) & BOHC_BB != 0 {
            // The BIOS is busy: it has up to 2 s to finish.
            if !wait_for(Duration::from_secs(2), || hba.read32(BOHC) & (BOHC_BOS | BOHC_BB) == 0) {
                warn!("BIOS did not release the HBA (BOHC {:#x}); taking it anyway", hba.read32(BOHC));
            }
        }
        info!("BIOS/OS handoff: OS owns the HBA");
    }

    // HBA reset (10.4.3): GHC.HR until the HBA clears it (within 1 s), then AE again.
    hba.write32(GHC, hba.read32(GHC) | GHC_AE | GHC_HR);
    if !wait_for(Duration::from_secs(1), || hba.read32(GHC) & GHC_HR == 0) {
        error!("HBA reset did not complete in 1 s (GHC {:#x})", hba.read32(GHC));
        return Err(Error::new(EIO));
    }
    hba.write32(GHC, GHC_AE);

    let pi = hba.read32(PI);
    let slots = cap_ncs(cap);
    info!("AHCI {}.{}{}, {} port(s), PI {:#x}, {} command slots, NCQ {}, 64-bit {}, staggered spin-up {}, CLO {}, Gen {}",
        vs >> 16, (vs >> 8) & 0xff, if vs & 0xff != 0 { format!(".{}", vs & 0xff) } else { format!("") },
        cap_np(cap), pi, slots, yes(cap & CAP_SNCQ), yes(cap & CAP_S64A), yes(cap & CAP_SSS), yes(cap & CAP_SCLO), cap_iss(cap));

    let mut ports: Vec<Port> = Vec::new();
    for num in 0..32usize {
        if pi & (1 << num) == 0 {
            continue;
        }
        match bring_up(&hba, cap, num, slots, link_timeout) {
            Ok(Some(mut port)) => {
                let id = port.info.as_ref().unwrap();
                port.ncq = want_ncq && cap & CAP_SNCQ != 0 && id.ncq;
                port.depth = if port.ncq { id.queue_depth.min(slots).min(queue_depth) } else { slots.min(queue_depth) };
                info!("port {}: disk.ahci:{}, {} with {} slot(s)", num, ports.len(),
                    if port.ncq { "READ/WRITE FPDMA QUEUED (NCQ)" } else { "READ/WRITE DMA EXT" }, port.depth);
                ports.push(port);
            }
            Ok(None) => {}
            Err(e) => warn!("port {}: bring-up failed: {}", num, e),
        }
    }

    let irq = interrupts(&mut pcid, irq_mode)?;
    let max_bytes = (max_kib * 1024).min(MAX_COMMAND_BYTES);
    let scheme = DiskScheme::new(hba, cap, ports, max_bytes, io_timeout_ms, link_timeout);
    let shared = Arc::new(Shared { state: Mutex::new(scheme), watchdog: Condvar::new() });
    {
        let s = shared.clone();
        thread::spawn("ahci-irq", move || irq_thread(&s, irq))?;
    }
    {
        // Interrupts on: each port's completions and errors (PxIE), then the HBA's (GHC.IE).
        let g = shared.state.lock();
        for p in &g.ports {
            p.write(&g.hba, PX_IS, u32::MAX);
            p.write(&g.hba, PX_IE, PIE_DEFAULT);
        }
        g.hba.write32(IS, u32::MAX);
        g.hba.write32(GHC, GHC_AE | GHC_IE);
    }
    {
        let s = shared.clone();
        thread::spawn("ahci-watchdog", move || watchdog(&s))?;
    }

    let mut socket = Socket::create("disk.ahci")?;
    {
        let g = shared.state.lock();
        let names: Vec<_> = (0..g.ports.len()).map(|n| format!("disk.ahci:{}", n)).collect();
        info!("serving disk.ahci: ({})", names.join(", "));
    }
    socket.serve(|req| {
        let mut g = shared.state.lock();
        g.handle(req);
        let wake = core::mem::take(&mut g.wake_watchdog);
        drop(g);
        if wake {
            shared.watchdog.notify_one();
        }
    })
}

fn yes(bit: u32) -> &'static str {
    if bit != 0 { "yes" } else { "no" }
}

/// Brings up port `num` (10.1.2 steps 3-7 and 10.3.1); Some(port) when it holds an ATA disk, identified.
fn bring_up(hba: &redox_driver::Mmio, cap: u32, num: usize, slots: u32, link_timeout: Duration) -> Result<Option<Port>> {
    let mut port = Port::new(num, slots)?;
    // Idle: the command list engine and FIS reception stopped.
    port.stop_engine(hba)?;
    port.stop_fis(hba)?;
    port.attach_memory(hba, cap & CAP_S64A != 0)?;
    port.write(hba, PX_IE, 0);
    port.clear_errors(hba);
    if cap & CAP_SSS != 0 {
        let c = port.read(hba, PX_CMD);
        port.write(hba, PX_CMD, c | PCMD_SUD | PCMD_POD);
    }
    let mut link = wait_for(link_timeout, || port.link_up(hba));
    if !link {
        info!("port {}: no link (SSTS {:#x}), COMRESET", num, port.read(hba, PX_SSTS));
        link = port.comreset(hba, link_timeout);
    }
    if !link {
        info!("port {}: no device", num);
        let _ = port.stop_fis(hba);
        return Ok(None);
    }
    if !port.wait_ready(hba, Duration::from_secs(1)) {
        warn!("port {}: device did not finish its reset (TFD {:#x})", num, port.read(hba, PX_TFD));
        let _ = port.stop_fis(hba);
        return Ok(None);
    }
    let sig = port.read(hba, PX_SIG);
    if sig != SIG_ATA {
        let kind = match sig {
            SIG_ATAPI => "ATAPI device",
            SIG_SEMB => "enclosure bridge",
            SIG_PM => "port multiplier",
            _ => "unknown device",
        };
        info!("port {}: {} (signature {:#010x}): not an ATA disk, skipped", num, kind, sig);
        let _ = port.stop_fis(hba);
        return Ok(None);
    }
    let ssts = port.read(hba, PX_SSTS);
    port.clear_errors(hba);
    port.start(hba);
    if port.polled(hba, &H2dFis::identify(), "IDENTIFY DEVICE").is_err() {
        let _ = port.stop_engine(hba);
        let _ = port.stop_fis(hba);
        return Ok(None);
    }
    let id = Identify::parse(&port.scratch[..512]);
    info!("port {}: SATA Gen{} link, \"{}\" serial \"{}\" firmware \"{}\"", num, (ssts >> 4) & 0xf, id.model, id.serial, id.firmware);
    info!("port {}: {} sectors of {} bytes ({} MiB), LBA48 {}, NCQ {} (queue depth {})", num, id.sectors, id.sector_size,
        id.sectors * id.sector_size as u64 >> 20, if id.lba48 { "yes" } else { "no" }, if id.ncq { "yes" } else { "no" }, id.queue_depth);
    if !id.lba48 || id.sectors == 0 {
        warn!("port {}: no 48-bit addressing: skipped", num);
        let _ = port.stop_engine(hba);
        return Ok(None);
    }
    port.info = Some(id);
    Ok(Some(port))
}

/// MSI if the function has it (and irqMode allows), else the legacy line.
fn interrupts(pcid: &mut PciFunctionHandle, mode: i32) -> Result<Irq> {
    let func = pcid.config().clone();
    if (mode == IRQ_AUTO || mode == IRQ_MSI) && func.has_msi {
        let irq = pcid.enable_msi()?;
        info!("interrupts: msi");
        return Ok(irq);
    }
    if (mode == IRQ_AUTO || mode == IRQ_INTX) && func.legacy_interrupt_pin != 0 {
        let irq = pcid.legacy_irq()?;
        info!("interrupts: legacy (INTx)");
        return Ok(irq);
    }
    error!("no interrupt of the requested kind (irqMode {})", ["auto", "msi", "intx"].get(mode as usize).unwrap_or(&"?"));
    Err(Error::new(ENODEV))
}

/// Waits on the interrupt and serves it: completions, errors, more commands.
fn irq_thread(s: &Shared, irq: Irq) {
    loop {
        if let Err(e) = irq.wait() {
            error!("irq thread: wait failed: {}", e);
            return;
        }
        let wake = {
            let mut g = s.state.lock();
            g.irq();
            core::mem::take(&mut g.wake_watchdog)
        };
        if wake {
            s.watchdog.notify_one();
        }
        // A legacy line stays masked until acknowledged; clearing IS above deasserted it.
        let _ = irq.ack();
    }
}

/// Resets a port whose command missed its deadline: sleeps until the
/// earliest deadline of what is in flight, or without one (woken by the
/// next submission) when nothing is.
fn watchdog(s: &Shared) {
    let mut g = s.state.lock();
    loop {
        let now = time::clock_ns();
        let (expired, next) = g.expired(now);
        if !expired.is_empty() {
            for (d, mask) in expired {
                g.recover(d, Why::Timeout(mask));
                g.submit(d);
            }
            continue;
        }
        match next {
            Some(deadline) => g = s.watchdog.wait_timeout(g, Duration::from_nanos(deadline - now)).0,
            None => {
                g.watchdog_idle = true;
                g = s.watchdog.wait(g);
            }
        }
    }
}
