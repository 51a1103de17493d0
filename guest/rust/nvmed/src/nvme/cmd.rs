//! Submission queue entries (NVMe 1.4, 4.2): the 64-byte command and the
//! admin and I/O commands nvmed issues (as Redox's nvmed/src/nvme/cmd.rs).

/// Admin opcodes (5.x).
pub const ADMIN_CREATE_SQ: u8 = 0x01;
pub const ADMIN_CREATE_CQ: u8 = 0x05;
pub const ADMIN_IDENTIFY: u8 = 0x06;
pub const ADMIN_ABORT: u8 = 0x08;
pub const ADMIN_SET_FEATURES: u8 = 0x09;
/// NVM command set opcodes (6.x).
pub const IO_WRITE: u8 = 0x01;
pub const IO_READ: u8 = 0x02;

pub const FEAT_NUM_QUEUES: u32 = 0x07;
pub const CNS_NAMESPACE: u32 = 0x00;
pub const CNS_CONTROLLER: u32 = 0x01;
pub const CNS_ACTIVE_NS_LIST: u32 = 0x02;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NvmeCmd {
    pub opcode: u8,
    pub flags: u8,
    pub cid: u16,
    pub nsid: u32,
    pub _rsvd: u64,
    pub mptr: u64,
    pub prp1: u64,
    pub prp2: u64,
    pub cdw10: u32,
    pub cdw11: u32,
    pub cdw12: u32,
    pub cdw13: u32,
    pub cdw14: u32,
    pub cdw15: u32,
}

const _: () = assert!(core::mem::size_of::<NvmeCmd>() == 64);

impl NvmeCmd {
    pub fn identify(nsid: u32, cns: u32, buf: u64) -> NvmeCmd {
        NvmeCmd { opcode: ADMIN_IDENTIFY, nsid, prp1: buf, cdw10: cns, ..Default::default() }
    }

    /// Set Features: Number of Queues (5.21.1.7), 0's based counts.
    pub fn set_num_queues(n: u16) -> NvmeCmd {
        let v = (n as u32 - 1) | ((n as u32 - 1) << 16);
        NvmeCmd { opcode: ADMIN_SET_FEATURES, cdw10: FEAT_NUM_QUEUES, cdw11: v, ..Default::default() }
    }

    /// Create I/O Completion Queue (5.3): physically contiguous, interrupts on vector `iv`.
    pub fn create_io_cq(qid: u16, size: u16, buf: u64, iv: u16) -> NvmeCmd {
        NvmeCmd {
            opcode: ADMIN_CREATE_CQ, prp1: buf,
            cdw10: ((size as u32 - 1) << 16) | qid as u32,
            cdw11: ((iv as u32) << 16) | 0b11, // IEN | PC
            ..Default::default()
        }
    }

    /// Create I/O Submission Queue (5.4): physically contiguous, completing to CQ `cqid`.
    pub fn create_io_sq(qid: u16, size: u16, buf: u64, cqid: u16) -> NvmeCmd {
        NvmeCmd {
            opcode: ADMIN_CREATE_SQ, prp1: buf,
            cdw10: ((size as u32 - 1) << 16) | qid as u32,
            cdw11: ((cqid as u32) << 16) | 0b1, // PC
            ..Default::default()
        }
    }

    /// Abort (5.1): command `cid` of submission queue `sqid`.
    pub fn abort(sqid: u16, cid: u16) -> NvmeCmd {
        NvmeCmd { opcode: ADMIN_ABORT, cdw10: sqid as u32 | ((cid as u32) << 16), ..Default::default() }
    }

    /// Read or Write (6.9, 6.15) of `blocks` logical blocks at `lba`.
    pub fn io(write: bool, nsid: u32, lba: u64, blocks: u16, prp1: u64, prp2: u64) -> NvmeCmd {
        NvmeCmd {
            opcode: if write { IO_WRITE } else { IO_READ },
            nsid, prp1, prp2,
            cdw10: lba as u32,
            cdw11: (lba >> 32) as u32,
            cdw12: blocks as u32 - 1,
            ..Default::default()
        }
    }
}
