//! virtio-core: the virtio 1.2 transport for Redox driver daemons on the
//! redox-driver crate (as Redox's virtio-core crate serves virtio-blkd and
//! virtio-netd): modern PCI transport only, split virtqueues.
//!
//! - `spec`: the specification's transport and ring constants.
//! - `transport`: `find_capabilities` (vendor capabilities 0x09: common,
//!   notify with notify_off_multiplier, ISR, device configuration),
//!   `Transport` (`probe`, `begin_init`, `negotiate`, `driver_ok`, `fail`,
//!   `reset`, `needs_reset`, `status`, `read_config`, `set_config_vector`,
//!   `read_isr`, `num_queues`).
//! - `queue`: `VirtQueue` (`new`, `set_vector`, `enable`, `reinit`, `add`
//!   of `Buf`s, `kick`, `pop_used`, `enable_interrupts`,
//!   `disable_interrupts`), EVENT_IDX and INDIRECT_DESC when negotiated.
//! - `irq`: choosing MSI-X vectors (config + one per queue, shared when the
//!   table is small) or INTx, and `VectorMap` (which queues a vector serves).
//!
//! Device types (block, network) define their own feature bits,
//! configuration layout and requests on top.
#![no_std]

extern crate alloc;

pub mod spec;
pub mod transport;
pub mod queue;
pub mod irq;

pub use queue::{Buf, Desc, Used, VirtQueue};
pub use transport::{find_capabilities, CapLocation, Isr, Region, Transport, VirtioCaps};
pub use irq::{setup_interrupts, InterruptMethod, Interrupts, IRQ_AUTO, IRQ_INTX, IRQ_MSIX};
