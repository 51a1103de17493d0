//! redox-selftest: the redox-driver crate and the `redox` imports end to
//! end, bound to an NVMe controller. It connects to its pcid handle, enables
//! the device, maps BAR0, reads CAP and VS, spends `loops` iterations of
//! arithmetic between two register reads, round-trips a DMA buffer, sleeps,
//! hands work to a second thread through a Mutex and Condvar, and exits.
//! `fault` makes it misbehave: 1 panic!, 2 an index out of bounds, 3 an
//! endless loop, 4 unbounded recursion, 5 an allocation the heap cannot hold.
#![no_std]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::{info, time, thread, Condvar, Dma, Mutex, PciBar, PciFunctionHandle, Result};

const REG_CAP: usize = 0x00;
const REG_VS: usize = 0x08;
const REG_CSTS: usize = 0x1c;

redox_driver::driver_main!(main);

fn main() -> Result<()> {
    let loops = redox_driver::param_int("loops", 1000) as u32;
    let fault = redox_driver::param_int("fault", 0);

    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("redox-selftest {}: {:04x}:{:04x} class {:06x}", func.name(), func.vendor, func.device, func.class);
    if let PciBar::Memory64 { addr, size } | PciBar::Memory32 { addr, size } = func.bars[0] {
        info!("BAR0 at {:#x}, {} KiB", addr, size / 1024);
    }
    pcid.enable_device()?;
    let bar = pcid.map_bar(0)?;
    let cap = bar.read64(REG_CAP);
    let vs = bar.read32(REG_VS);
    info!("CAP {:#x} VS {}.{}", cap, vs >> 16, (vs >> 8) & 0xff);

    // Work between two register reads: the time between them follows the instructions.
    let mut x: u32 = vs;
    for i in 0..loops {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(i ^ 12345);
    }
    let csts = bar.read32(REG_CSTS);
    info!("after {} loops: x={:#x} CSTS {:#x}", loops, x, csts);

    let mut buf = Dma::<[u32; 1024]>::new([0; 1024])?;
    for (i, w) in buf.iter_mut().enumerate() {
        *w = (i as u32).wrapping_mul(0x9e37_79b9);
    }
    let sum = buf.iter().fold(0u32, |a, &w| a.wrapping_add(w));
    info!("DMA buffer at physical {:#x} ({} bytes), checksum {:#x}", buf.physical(), buf.allocated(), sum);

    match fault {
        1 => panic!("deliberate panic (fault {})", fault),
        2 => {
            let v: Vec<u32> = (0..4).collect();
            let i = loops as usize + 9;
            info!("v[{}] = {}", i, v[i]);
        }
        3 => {
            let mut n: u64 = 0;
            loop {
                // Volatile: the loop stays a loop, with no call out of the module.
                unsafe { core::ptr::write_volatile(&mut n, core::ptr::read_volatile(&n).wrapping_add(1)) };
            }
        }
        4 => info!("recursion: {}", recurse(1)),
        5 => {
            let big: Vec<u8> = Vec::with_capacity(1 << 30);
            info!("allocated {}", big.capacity());
        }
        _ => {}
    }

    let t0 = time::Instant::now();
    time::sleep(Duration::from_millis(2));
    info!("woke after sleep: {} us", t0.elapsed().as_micros());

    // A second thread computes; this one waits on a condition variable for its result.
    let shared = Arc::new((Mutex::new(None::<u32>), Condvar::new()));
    let theirs = shared.clone();
    thread::spawn("selftest-worker", move || {
        time::sleep(Duration::from_micros(500));
        let (lock, cv) = &*theirs;
        *lock.lock() = Some(x ^ sum);
        info!("worker: result ready");
        cv.notify_all();
    })?;
    let (lock, cv) = &*shared;
    let mut g = lock.lock();
    while g.is_none() {
        g = cv.wait(g);
    }
    info!("main: worker returned {:#x}", g.unwrap());
    drop(g);
    info!("done");
    Ok(())
}

#[inline(never)]
fn recurse(n: u64) -> u64 {
    let mut pad = [n; 64];
    // Volatile: the frame is not optimised away, nor the recursion into a loop.
    unsafe { core::ptr::write_volatile(&mut pad[3], n) };
    if n == 0 { 0 } else { recurse(n + 1).wrapping_add(unsafe { core::ptr::read_volatile(&pad[5]) }) }
}
