//! Polling a register with a deadline (Linux's wait_for / intel_de_wait_for_*):
//! short sleeps growing to 1 ms, then one last look after the deadline.

use core::time::Duration;

use redox_driver::time::{sleep, Instant};

pub fn wait_for<F: FnMut() -> bool>(timeout: Duration, mut cond: F) -> bool {
    let start = Instant::now();
    let mut step = Duration::from_micros(10);
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() >= timeout {
            return cond();
        }
        sleep(step);
        step = (step * 2).min(Duration::from_millis(1));
    }
}
