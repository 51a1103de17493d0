//! Time: the monotonic clock and sleeping (`nanosleep` blocks the thread).

use core::time::Duration;

use crate::sys;

/// CLOCK_MONOTONIC in nanoseconds.
pub fn clock_ns() -> u64 {
    unsafe { sys::clock_ns() }
}

/// A point on the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(u64);

impl Instant {
    pub fn now() -> Instant {
        Instant(clock_ns())
    }

    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(clock_ns().saturating_sub(self.0))
    }

    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        let ns = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(ns).map(Instant)
    }

    /// Time left until this instant (zero once it passed).
    pub fn remaining(&self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(clock_ns()))
    }
}

/// Sleeps (the thread blocks; other threads and the devices run on).
pub fn sleep(d: Duration) {
    unsafe { sys::nanosleep(d.as_secs() as u32, d.subsec_nanos()) }
}

pub fn sleep_ms(ms: u64) {
    sleep(Duration::from_millis(ms))
}

pub fn sleep_us(us: u64) {
    sleep(Duration::from_micros(us))
}
