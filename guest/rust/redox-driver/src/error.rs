//! Errors as Redox's `syscall::Error`: an errno.

use core::fmt;

/// A failed call: the errno it returned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub errno: i32,
}

pub type Result<T, E = Error> = core::result::Result<T, E>;

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const EIO: i32 = 5;
pub const EBADF: i32 = 9;
pub const EAGAIN: i32 = 11;
pub const ENOMEM: i32 = 12;
pub const EBUSY: i32 = 16;
pub const ENODEV: i32 = 19;
pub const EINVAL: i32 = 22;
pub const ENOSPC: i32 = 28;
pub const ENOSYS: i32 = 38;
pub const ENAMETOOLONG: i32 = 36;
pub const ETIMEDOUT: i32 = 110;

impl Error {
    pub const fn new(errno: i32) -> Error {
        Error { errno }
    }

    /// `Ok(value)` for a non-negative import result, the error for `-errno`.
    pub fn demux(value: i32) -> Result<usize> {
        if value < 0 { Err(Error::new(-value)) } else { Ok(value as usize) }
    }

    pub fn name(&self) -> &'static str {
        match self.errno {
            EPERM => "EPERM",
            ENOENT => "ENOENT",
            EIO => "EIO",
            EBADF => "EBADF",
            EAGAIN => "EAGAIN",
            ENOMEM => "ENOMEM",
            EBUSY => "EBUSY",
            ENODEV => "ENODEV",
            EINVAL => "EINVAL",
            ENOSPC => "ENOSPC",
            ENOSYS => "ENOSYS",
            ENAMETOOLONG => "ENAMETOOLONG",
            ETIMEDOUT => "ETIMEDOUT",
            _ => "errno",
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.errno)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
