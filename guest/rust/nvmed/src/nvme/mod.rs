//! The controller (as Redox's nvmed/src/nvme/mod.rs): BAR0 registers, the
//! admin queue, the I/O queue pairs and their completion bookkeeping. The
//! bring-up steps that wait (for CSTS.RDY, for an admin command) are in
//! main.rs, which holds the lock only around what touches this state.

pub mod cmd;
pub mod identify;
pub mod queues;
pub mod regs;

use alloc::vec::Vec;

use redox_driver::{Error, Mmio, Result, EIO};

use cmd::NvmeCmd;
use queues::{NvmeComp, QueuePair};

/// A finished admin command.
#[derive(Clone, Copy, Debug)]
pub struct AdminResult {
    pub status: u16,
    pub dw0: u32,
}

/// One admin command id: waiting for its completion, or done.
#[derive(Clone, Copy)]
enum AdminSlot {
    Idle,
    Waiting,
    Done(AdminResult),
}

pub struct Nvme {
    pub bar: Mmio,
    pub cap: u64,
    pub dstrd: u32,
    pub admin: QueuePair,
    admin_slots: Vec<AdminSlot>,
    /// I/O queue pairs; qid = index + 1.
    pub io: Vec<QueuePair>,
    /// Interrupt vector of each I/O queue (MSI-X), index as `io`.
    pub io_vector: Vec<u16>,
    /// Largest transfer per command, bytes.
    pub mdts_bytes: usize,
}

impl Nvme {
    /// The controller behind `bar`, whose CAP register read `cap`.
    pub fn new(bar: Mmio, cap: u64, admin_depth: u16) -> Result<Nvme> {
        let dstrd = regs::cap_dstrd(cap);
        let admin = QueuePair::new(0, admin_depth, dstrd)?;
        Ok(Nvme {
            bar, cap, dstrd, admin,
            admin_slots: alloc::vec![AdminSlot::Idle; admin_depth as usize],
            io: Vec::new(), io_vector: Vec::new(), mdts_bytes: 4096,
        })
    }

    /// Programs the admin queue's size and addresses (AQA, ASQ, ACQ); the controller must be disabled.
    pub fn set_admin_queue(&self) {
        let d = self.admin.depth as u32 - 1;
        regs::AQA.write(&self.bar, (d << 16) | d);
        regs::ASQ.write(&self.bar, self.admin.sq_phys());
        regs::ACQ.write(&self.bar, self.admin.cq_phys());
    }

    /// Submits an admin command; its completion is collected by `reap_admin` (from the interrupt thread).
    pub fn admin_submit(&mut self, cmd: NvmeCmd) -> Result<u16> {
        let cid = self.admin.alloc_cid().ok_or(Error::new(EIO))?;
        self.admin_slots[cid as usize] = AdminSlot::Waiting;
        self.admin.push(cmd, cid);
        self.admin.ring_sq(&self.bar);
        Ok(cid)
    }

    /// The result of admin command `cid` once it completed (its id is free again).
    pub fn admin_take(&mut self, cid: u16) -> Option<AdminResult> {
        match self.admin_slots[cid as usize] {
            AdminSlot::Done(r) => {
                self.admin_slots[cid as usize] = AdminSlot::Idle;
                self.admin.release_cid(cid);
                Some(r)
            }
            _ => None,
        }
    }

    /// Collects the admin queue's completions; true if any admin command finished.
    pub fn reap_admin(&mut self, scratch: &mut Vec<NvmeComp>) -> bool {
        scratch.clear();
        self.admin.reap(&self.bar, scratch);
        let mut any = false;
        for c in scratch.iter() {
            match self.admin_slots.get(c.cid as usize) {
                Some(AdminSlot::Waiting) => {
                    self.admin_slots[c.cid as usize] = AdminSlot::Done(AdminResult { status: c.status_code(), dw0: c.dw0 });
                    any = true;
                }
                _ => redox_driver::error!("admin completion for idle command id {}", c.cid),
            }
        }
        any
    }

    /// An I/O queue pair with its CQ on vector `vector`.
    pub fn add_io_queue(&mut self, depth: u16, vector: u16) -> Result<&QueuePair> {
        let qid = self.io.len() as u16 + 1;
        self.io.push(QueuePair::new(qid, depth, self.dstrd)?);
        self.io_vector.push(vector);
        Ok(&self.io[qid as usize - 1])
    }
}
