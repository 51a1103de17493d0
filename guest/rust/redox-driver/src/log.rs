//! Logging: `error!`, `warn!`, `info!`, `debug!`, `trace!` as the `log`
//! crate spells them, written to the driver's log (with its simulated time).

use alloc::string::String;
use core::fmt;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(i32)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// Writes one log line.
pub fn log_str(level: Level, text: &str) {
    unsafe { crate::sys::log(level as i32, text.as_ptr(), text.len()) }
}

/// Formats and writes one log line (a constant string is not copied).
pub fn log(level: Level, args: fmt::Arguments) {
    match args.as_str() {
        Some(s) => log_str(level, s),
        None => {
            let mut s = String::new();
            let _ = fmt::write(&mut s, args);
            log_str(level, &s);
        }
    }
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Error, format_args!($($arg)+)) };
}

#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Warn, format_args!($($arg)+)) };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Info, format_args!($($arg)+)) };
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Debug, format_args!($($arg)+)) };
}

#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Trace, format_args!($($arg)+)) };
}
