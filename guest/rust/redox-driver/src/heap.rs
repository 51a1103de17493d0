//! The global allocator (the runtime's heap through `malloc`/`free`), the
//! panic handler (the message goes to the runtime through `panic`, then the
//! module traps: the process is a crashed process naming the message) and
//! the allocation-failure handler (a panic).

use core::alloc::{GlobalAlloc, Layout};
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::sys;

/// The runtime's heap: a first-fit list shared with thread stacks and DMA buffers.
pub struct RuntimeHeap;

unsafe impl GlobalAlloc for RuntimeHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        sys::malloc(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        sys::free(ptr)
    }
}

#[global_allocator]
static HEAP: RuntimeHeap = RuntimeHeap;

/// A message buffer on the stack: a panic must not need the heap.
struct PanicBuf {
    buf: [u8; 1024],
    len: usize,
}

impl Write for PanicBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut n = s.len().min(room);
        // Cut at a character boundary.
        while n > 0 && !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    if !PANICKING.swap(true, Ordering::Relaxed) {
        let mut b = PanicBuf { buf: [0; 1024], len: 0 };
        let _ = write!(b, "{}", info);
        unsafe { sys::panic(b.buf.as_ptr(), b.len) };
    }
    core::arch::wasm32::unreachable()
}

#[alloc_error_handler]
fn alloc_error(layout: Layout) -> ! {
    panic!("memory allocation of {} bytes (align {}) failed: the driver's heap is exhausted (raise memoryMiB)", layout.size(), layout.align())
}
