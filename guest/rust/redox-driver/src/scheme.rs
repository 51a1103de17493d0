//! Serving a scheme (Redox: `redox_scheme::Socket` and its request loop).
//! `Socket::create("disk.nvme")` makes the scheme; each client call arrives
//! as a `Request`. The client's buffer stays in the client: `copy_from_client`
//! and `copy_to_client` move bytes between it and the driver's memory (a DMA
//! buffer directly, if that is where they go). A request is answered with
//! `reply`, at once or later from another thread (an interrupt thread, when
//! the device finished); the client blocks until then.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result, ENAMETOOLONG};
use crate::sys::{self, RawRequest};

/// Longest path a request may carry.
pub const PATH_MAX: usize = 4096;

/// A request-reply call (Redox SYS_CALL), as `Op::Other(OP_CALL)`: the
/// client's buffer carries the request in and the reply out; `call_code`
/// says which call.
pub const OP_CALL: u32 = 6;
/// A map (Redox fmap), as `Op::Other(OP_FMAP)`: reply (`reply_u64`) with the
/// physical address of `map_size` bytes of RAM for offset `offset()`.
pub const OP_FMAP: u32 = 7;

/// What the client called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Open,
    Read,
    Write,
    Close,
    Fsize,
    /// Any other request: `Op::Other(OP_CALL)`, `Op::Other(OP_FMAP)`, or one this crate does not name.
    Other(u32),
}

impl Op {
    fn from_raw(op: u32) -> Op {
        match op {
            1 => Op::Open,
            2 => Op::Read,
            3 => Op::Write,
            4 => Op::Close,
            5 => Op::Fsize,
            n => Op::Other(n),
        }
    }
}

/// The daemon's end of a scheme.
pub struct Socket {
    fd: i32,
    path: Vec<u8>,
}

impl Socket {
    /// Creates scheme `name` (opens `:name`).
    pub fn create(name: &str) -> Result<Socket> {
        let fd = Error::demux(unsafe { sys::scheme_create(name.as_ptr(), name.len()) })?;
        Ok(Socket { fd: fd as i32, path: alloc::vec![0; PATH_MAX] })
    }

    /// The next request (blocks until one arrives). An open whose path is
    /// longer than PATH_MAX is answered with ENAMETOOLONG here.
    pub fn next_request(&mut self) -> Result<Request> {
        loop {
            let mut raw = RawRequest::default();
            Error::demux(unsafe { sys::scheme_next(self.fd, &mut raw, self.path.as_mut_ptr(), self.path.len()) })?;
            let req = Request { raw, fd: self.fd, path: None };
            if raw.path_len as usize > self.path.len() {
                req.reply(Err(Error::new(ENAMETOOLONG)));
                continue;
            }
            let path = if raw.path_len > 0 {
                Some(String::from_utf8_lossy(&self.path[..raw.path_len as usize]).into_owned())
            } else {
                None
            };
            return Ok(Request { path, ..req });
        }
    }

    /// Something that can post readiness events for this scheme's client handles from any thread.
    pub fn poster(&self) -> EventPoster {
        EventPoster { fd: self.fd }
    }

    /// Serves requests forever: `handle` replies to each, now or later.
    pub fn serve<F: FnMut(Request)>(&mut self, mut handle: F) -> Result<()> {
        loop {
            let req = self.next_request()?;
            handle(req);
        }
    }
}

/// Posts readiness of client handles (Redox: `Socket::post_fevent`); copyable to other threads.
#[derive(Clone, Copy, Debug)]
pub struct EventPoster {
    fd: i32,
}

/// Readable (a client's `event:` subscription for reads wakes).
pub const EVENT_READ: u32 = 1;
/// Writable.
pub const EVENT_WRITE: u32 = 2;

impl EventPoster {
    /// Client handle `handle` became ready for `flags` (EVENT_READ, EVENT_WRITE). Edge-triggered: clients read until EAGAIN.
    pub fn post(&self, handle: usize, flags: u32) {
        unsafe { sys::scheme_post_event(self.fd, handle as u32, flags) };
    }
}

/// One client call; answer it with `reply` (exactly once: it is consumed).
#[derive(Debug)]
#[must_use = "a request must be replied to, or its client blocks for ever"]
pub struct Request {
    raw: RawRequest,
    fd: i32,
    path: Option<String>,
}

impl Request {
    pub fn op(&self) -> Op {
        Op::from_raw(self.raw.op)
    }
    /// The client's process id.
    pub fn pid(&self) -> u32 {
        self.raw.pid
    }
    /// The scheme-local handle (what `open` replied).
    pub fn handle(&self) -> usize {
        self.raw.handle as usize
    }
    /// Byte offset of a read or write.
    pub fn offset(&self) -> u64 {
        self.raw.offset_lo as u64 | ((self.raw.offset_hi as u64) << 32)
    }
    /// Length of the client's buffer.
    pub fn len(&self) -> usize {
        self.raw.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }
    pub fn flags(&self) -> u32 {
        self.raw.flags
    }
    /// The request code of a call (Op::Call).
    pub fn call_code(&self) -> u32 {
        self.raw.flags
    }
    /// Bytes to map (Op::Fmap); `offset()` is where.
    pub fn map_size(&self) -> usize {
        self.raw.flags as usize
    }
    /// The path of an open (empty otherwise).
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or("")
    }

    /// Copies the client's bytes from `offset` into `dst`; returns how many (fewer at the buffer's end).
    pub fn copy_from_client(&self, offset: usize, dst: &mut [u8]) -> usize {
        let n = unsafe { sys::scheme_buf_read(self.raw.id, offset, dst.as_mut_ptr(), dst.len()) };
        n.max(0) as usize
    }

    /// Copies `src` into the client's buffer at `offset`; returns how many bytes.
    pub fn copy_to_client(&self, offset: usize, src: &[u8]) -> usize {
        let n = unsafe { sys::scheme_buf_write(self.raw.id, offset, src.as_ptr(), src.len()) };
        n.max(0) as usize
    }

    /// Answers the request: a count (or handle) or an errno; the client resumes.
    pub fn reply(self, result: Result<usize>) {
        let v: i64 = match result {
            Ok(n) => n as i64,
            Err(e) => -(e.errno as i64),
        };
        unsafe { sys::scheme_reply(self.fd, self.raw.id, v as u32, (v >> 32) as u32) };
    }

    /// Answers with a 64-bit value (a disk size beyond 4 GiB).
    pub fn reply_u64(self, value: u64) {
        unsafe { sys::scheme_reply(self.fd, self.raw.id, value as u32, (value >> 32) as u32) };
    }
}
