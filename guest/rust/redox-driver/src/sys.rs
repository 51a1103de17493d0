//! The raw `redox` import module (src/wasm/redox/shim.ts implements it).
//!
//! Every function is an import of the wasm module "redox". Pointers are
//! offsets in the module's linear memory; integers are i32 (no 64-bit
//! parameters: wide values travel as lo/hi halves or through memory).
//! Negative results are `-errno`. The imports marked *blocking* may suspend
//! the calling thread (Asyncify unwinds and rewinds it); the others return at
//! once. The safe wrappers in this crate are the way to call them.

/// `struct PciFunctionInfo` as `pci_config` writes it (144 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RawPciInfo {
    pub vendor: u16,
    pub device: u16,
    /// Class, subclass and programming interface (24 bits).
    pub class: u32,
    pub revision: u8,
    pub irq_line: u8,
    pub irq_pin: u8,
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    pub _pad: u16,
    pub subsystem_vendor: u16,
    pub subsystem: u16,
    pub bars: [RawBar; 6],
    /// Bit 0: MSI capability; bit 1: MSI-X capability.
    pub caps: u32,
}

/// One BAR of `RawPciInfo` (kind 0 none, 1 mem32, 2 mem64, 3 I/O).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RawBar {
    pub kind: u32,
    pub addr_lo: u32,
    pub addr_hi: u32,
    pub size_lo: u32,
    pub size_hi: u32,
}

/// A scheme request as `scheme_next` writes it (40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RawRequest {
    /// The runtime's id of the request (for the buffer copies and the reply).
    pub id: u32,
    /// 1 open, 2 read, 3 write, 4 close, 5 fsize, 6 call, 7 fmap.
    pub op: u32,
    /// Client process id.
    pub pid: u32,
    /// The scheme-local handle (what open replied).
    pub handle: u32,
    pub offset_lo: u32,
    pub offset_hi: u32,
    /// Length of the client's buffer (read, write).
    pub len: u32,
    pub flags: u32,
    /// Length of the path (open); at most the capacity given is copied.
    pub path_len: u32,
    pub _pad: u32,
}

/// `struct timespec` for `futex_wait`.
#[repr(C)]
pub struct TimeSpec {
    pub tv_sec: u64,
    pub tv_nsec: u32,
}

#[link(wasm_import_module = "redox")]
extern "C" {
    // ---- logging and failure
    /// Level: 1 error, 2 warn, 3 info, 4 debug, 5 trace.
    pub fn log(level: i32, ptr: *const u8, len: usize);
    /// Records the panic message; the caller then traps.
    pub fn panic(ptr: *const u8, len: usize);
    /// Blocking: ends the process with `code`; never returns.
    pub fn exit(code: i32);
    /// A driver parameter of the scenario (an enum's value is its index), or `default`.
    pub fn param_int(name: *const u8, len: usize, default: i32) -> i32;
    /// A string driver parameter: copies up to `cap` bytes (UTF-8) to `out`
    /// and returns its full length; `-ENOENT` if unset or not a string.
    pub fn param_str(name: *const u8, len: usize, out: *mut u8, cap: usize) -> i32;

    // ---- memory
    /// Heap memory for the global allocator; 0 when exhausted.
    pub fn malloc(size: usize, align: usize) -> *mut u8;
    pub fn free(ptr: *mut u8);
    /// Zeroed whole pages for device DMA; writes the physical address to `phys`; 0 when exhausted.
    pub fn physalloc(size: usize, phys: *mut u64) -> *mut u8;
    pub fn physfree(ptr: *mut u8, size: usize) -> i32;
    /// Maps a physical device window uncached; returns an MMIO cookie (0 on failure).
    pub fn physmap(phys_lo: u32, phys_hi: u32, size: usize) -> usize;
    pub fn physunmap(cookie: usize);
    pub fn mmio_read8(addr: usize) -> u32;
    pub fn mmio_read16(addr: usize) -> u32;
    pub fn mmio_read32(addr: usize) -> u32;
    pub fn mmio_write8(addr: usize, value: u32);
    pub fn mmio_write16(addr: usize, value: u32);
    pub fn mmio_write32(addr: usize, value: u32);

    // ---- the pcid handle
    /// Fills a `RawPciInfo` (`len` bytes available); returns its size.
    pub fn pci_config(out: *mut RawPciInfo, len: usize) -> i32;
    /// Blocking: memory/I/O decode and bus mastering on.
    pub fn pci_enable_device() -> i32;
    /// Blocking: a config dword.
    pub fn pci_read_config(offset: u32) -> u32;
    /// Blocking.
    pub fn pci_write_config(offset: u32, value: u32) -> i32;
    /// Maps memory BAR `bar`; writes its size to `size`; returns an MMIO cookie (0: not a memory BAR).
    pub fn pci_map_bar(bar: u32, size: *mut usize) -> usize;
    /// Blocking: MSI-X table entries, 0 without MSI-X.
    pub fn pci_msix_table_size() -> i32;
    /// Blocking: programs and enables `count` MSI-X vectors; writes their irq handles to `handles`.
    pub fn pci_enable_msix(count: u32, handles: *mut u32) -> i32;
    /// Blocking: single-message MSI; returns an irq handle.
    pub fn pci_enable_msi() -> i32;
    /// Blocking: the legacy INTx line; returns an irq handle.
    pub fn pci_legacy_irq() -> i32;

    // ---- irq:
    /// Blocking: waits for the interrupt; returns how many arrived since the last wait.
    pub fn irq_wait(handle: u32) -> i32;
    /// Blocking: ends a legacy interrupt (unmasks the line); nothing for MSI.
    pub fn irq_ack(handle: u32) -> i32;

    // ---- time and threads
    /// CLOCK_MONOTONIC in nanoseconds.
    pub fn clock_ns() -> u64;
    /// Blocking.
    pub fn nanosleep(sec: u32, nsec: u32);
    /// Blocking.
    pub fn sched_yield();
    /// Starts a thread running `func(arg)` (a function of the module's table).
    pub fn spawn_thread(func: extern "C" fn(usize), arg: usize, name: *const u8, len: usize) -> i32;
    /// Blocking: sleeps while `*addr == expected`, until `futex_wake` or the timeout (null: none).
    pub fn futex_wait(addr: *const u32, expected: u32, timeout: *const TimeSpec) -> i32;
    /// Wakes up to `count` threads waiting on `addr`; returns how many.
    pub fn futex_wake(addr: *const u32, count: u32) -> i32;

    // ---- serving a scheme
    /// Blocking: creates scheme `name`; returns its fd.
    pub fn scheme_create(name: *const u8, len: usize) -> i32;
    /// Blocking: the next request; its path goes to `path` (up to `cap` bytes).
    pub fn scheme_next(fd: i32, req: *mut RawRequest, path: *mut u8, cap: usize) -> i32;
    /// Copies from the client's buffer (at `offset`) into module memory; returns the bytes copied.
    pub fn scheme_buf_read(id: u32, offset: usize, dst: *mut u8, len: usize) -> i32;
    /// Copies module memory into the client's buffer (at `offset`); returns the bytes copied.
    pub fn scheme_buf_write(id: u32, offset: usize, src: *const u8, len: usize) -> i32;
    /// Completes a request with a 64-bit result (lo, hi): the client resumes.
    pub fn scheme_reply(fd: i32, id: u32, result_lo: u32, result_hi: u32) -> i32;
    /// Client handle `handle` of the scheme served on `fd` became ready for `flags` (1 read, 2 write): its event: subscribers wake.
    pub fn scheme_post_event(fd: i32, handle: u32, flags: u32) -> i32;
}
