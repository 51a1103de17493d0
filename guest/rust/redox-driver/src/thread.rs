//! Threads of the driver process. Each runs on its own stack in the
//! driver's memory; only one runs at a time, and another gets to run only
//! when the running one blocks (a wait, a sleep, a pcid round trip) or is
//! preempted inside a blocking call.

use alloc::boxed::Box;

use crate::error::{Error, Result};
use crate::sys;

/// A thread id.
pub type Tid = u32;

extern "C" fn trampoline(arg: usize) {
    let f: Box<Box<dyn FnOnce()>> = unsafe { Box::from_raw(arg as *mut Box<dyn FnOnce()>) };
    f();
}

/// Starts thread `name` running `f`; the thread ends when `f` returns.
pub fn spawn<F: FnOnce() + Send + 'static>(name: &str, f: F) -> Result<Tid> {
    let b: Box<Box<dyn FnOnce()>> = Box::new(Box::new(f));
    let arg = Box::into_raw(b) as usize;
    let tid = unsafe { sys::spawn_thread(trampoline, arg, name.as_ptr(), name.len()) };
    if tid < 0 {
        drop(unsafe { Box::from_raw(arg as *mut Box<dyn FnOnce()>) });
        return Err(Error::new(-tid));
    }
    Ok(tid as Tid)
}

/// Lets other ready threads run.
pub fn yield_now() {
    unsafe { sys::sched_yield() }
}

/// Ends the process.
pub fn exit(code: i32) -> ! {
    unsafe { sys::exit(code) };
    core::arch::wasm32::unreachable()
}
