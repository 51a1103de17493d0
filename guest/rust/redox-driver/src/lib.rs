//! redox-driver: what a Redox driver daemon uses (redox_syscall,
//! redox-driver-sys, pcid_interface, redox_scheme), for drivers compiled to
//! wasm32 and run by simrun on its model of the Redox kernel. Everything
//! goes through the `redox` import module (docs/COMPILED-DRIVERS.md).
//!
//! `#![no_std]` with `alloc`: the global allocator is the runtime's heap, a
//! panic ends the process as a crash naming the panic message. A driver
//! crate is a cdylib whose `main` is registered with `driver_main!`.
#![no_std]
// Rust 1.63 (Debian's) still requires an `#[alloc_error_handler]` for a
// no_std crate with a global allocator; the build enables this one feature
// for this crate only (RUSTC_BOOTSTRAP=redox_driver).
#![feature(alloc_error_handler)]

extern crate alloc;

pub mod sys;
pub mod error;
#[macro_use]
pub mod log;
mod heap;
pub mod dma;
pub mod mmio;
pub mod pci;
pub mod irq;
pub mod time;
pub mod thread;
pub mod sync;
pub mod scheme;

pub use dma::{Dma, DmaBuffer, PAGE_SIZE};
pub use error::{Error, Result, EAGAIN, EBADF, EBUSY, EINVAL, EIO, ENAMETOOLONG, ENODEV, ENOENT, ENOMEM, ENOSPC, ENOSYS, EPERM, ETIMEDOUT};
pub use irq::{Irq, IrqKind};
pub use mmio::{Mmio, Reg};
pub use pci::{PciBar, PciFunction, PciFunctionHandle};
pub use scheme::{Op, Request, Socket};
pub use sync::{Condvar, Mutex, MutexGuard};

/// A driver parameter from the scenario (`drivers.<name>.<param>`); an
/// enum's value is its index in the declared values; `default` if unset.
pub fn param_int(name: &str, default: i32) -> i32 {
    unsafe { sys::param_int(name.as_ptr(), name.len(), default) }
}

/// A string driver parameter (`drivers.<name>.<param>` of a string type),
/// or `default` if unset.
pub fn param_str(name: &str, default: &str) -> alloc::string::String {
    let mut buf = alloc::vec![0u8; 256];
    loop {
        let n = unsafe { sys::param_str(name.as_ptr(), name.len(), buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return alloc::string::String::from(default);
        }
        let n = n as usize;
        if n <= buf.len() {
            return alloc::string::String::from_utf8_lossy(&buf[..n]).into_owned();
        }
        buf.resize(n, 0);
    }
}

/// Runs the driver's main and turns an error into a logged failure (exit 1).
#[doc(hidden)]
pub fn run_main(main: fn() -> Result<()>) -> i32 {
    match main() {
        Ok(()) => 0,
        Err(e) => {
            error!("exiting: {}", e);
            1
        }
    }
}

/// Declares the driver's entry point: `driver_main!(main);` with
/// `fn main() -> redox_driver::Result<()>`. Returning ends the process.
#[macro_export]
macro_rules! driver_main {
    ($main:path) => {
        #[no_mangle]
        pub extern "C" fn simrun_redox_main() -> i32 {
            $crate::run_main($main)
        }
    };
}
