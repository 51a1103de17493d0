//! redox-drm: a DRM/KMS display daemon in the shape of Redox's redox-drm, on
//! the redox-driver crate. A generic KMS/GEM core (drm/: objects and ids,
//! properties and blobs, framebuffers, dumb buffers, events, the call
//! decoder) with the Intel Gen9 modesetting driver inside it (intel/).
//! It takes its PCI function (an Intel Skylake/Kaby Lake GPU) from pcid,
//! brings the display core up, adopts a pipe the firmware left running,
//! reads the monitors' EDIDs, installs Gen8-style interrupts (MSI, else
//! INTx) waited on by one thread, and serves `drm:card0`
//! (docs/DRM-SCHEME.md).
//!
//! Parameters: irqMode (auto, msi, intx).
#![no_std]

extern crate alloc;

mod drm;
mod intel;

use alloc::sync::Arc;

use redox_driver::{error, info, thread, Error, Irq, Mutex, PciFunctionHandle, Result, Socket, ENODEV};

use drm::Drm;
use intel::Intel;

redox_driver::driver_main!(main);

/// irqMode's values, in the registry's order.
const IRQ_AUTO: i32 = 0;
const IRQ_MSI: i32 = 1;
const IRQ_INTX: i32 = 2;

fn main() -> Result<()> {
    let irq_mode = redox_driver::param_int("irqMode", IRQ_AUTO);
    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("redox-drm {}: display controller {:04x}:{:04x} class {:06x}", func.name(), func.vendor, func.device, func.class);
    if func.vendor != 0x8086 || func.class >> 16 != 0x03 {
        error!("not an Intel display controller");
        return Err(Error::new(ENODEV));
    }
    let gpu = Intel::new(&mut pcid)?;
    let irq = interrupts(&mut pcid, irq_mode)?;
    let mut card = Drm::new(gpu);
    card.drv.irq_install();
    info!("card0: {}", card.summary());
    let shared = Arc::new(Mutex::new(card));
    {
        let s = shared.clone();
        thread::spawn("drm-irq", move || irq_thread(&s, irq))?;
    }
    let mut socket = Socket::create("drm")?;
    shared.lock().set_poster(socket.poster());
    info!("serving drm:card0");
    socket.serve(|req| shared.lock().handle(req))
}

/// MSI if the function has it (and irqMode allows), else the legacy line (as ahcid).
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

/// Waits on the interrupt: vblanks, flip completions, hot-plug (Drm::irq), then ends a legacy interrupt.
fn irq_thread(s: &Mutex<Drm<Intel>>, irq: Irq) {
    loop {
        if let Err(e) = irq.wait() {
            error!("irq thread: wait failed: {}", e);
            return;
        }
        s.lock().irq();
        let _ = irq.ack();
    }
}
