//! One HBA port (AHCI 1.3.1, 10.1.2 and 10.4): its memory (command list,
//! received FIS area, command tables), stopping and starting its command
//! list engine, COMRESET, and building commands in slots.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::time::{self, Instant};
use redox_driver::{Dma, DmaBuffer, Error, Mmio, Result, EIO, ENOMEM, ETIMEDOUT};

use super::ata::{H2dFis, Identify, H2D_DWORDS};
use super::regs::*;

/// Bytes of one command table: the command FIS area and 8 PRD entries.
pub const TABLE_BYTES: usize = 256;
/// PRD entries per command table.
pub const PRDS_PER_TABLE: usize = (TABLE_BYTES - CT_PRDT) / PRD_BYTES;
/// The largest transfer one command can describe.
pub const MAX_COMMAND_BYTES: usize = PRDS_PER_TABLE * PRD_MAX;

pub struct Port {
    /// Port number (bit of PI).
    pub num: usize,
    /// Command list (1 KiB) then the received FIS area (at 0x400): one page.
    list: Dma<[u32]>,
    /// 32 command tables of TABLE_BYTES.
    tables: Dma<[u32]>,
    /// One sector of PIO data-in (IDENTIFY, READ LOG EXT).
    pub scratch: DmaBuffer,
    /// Command slots the HBA has (CAP.NCS).
    pub slots: u32,
    pub info: Option<Identify>,
    /// Scheduling state (scheme.rs).
    pub pending: VecDeque<crate::scheme::Chunk>,
    pub inflight: Vec<Option<crate::scheme::InFlight>>,
    /// Tags (NCQ) or slots this port uses.
    pub depth: u32,
    /// Queued commands (READ/WRITE FPDMA QUEUED) in use.
    pub ncq: bool,
    /// A non-queued command is in flight (with NCQ, nothing else may be).
    pub nonqueued: u32,
    /// Most commands in flight at once.
    pub peak: u32,
    pub resets: u32,
}

/// Polls `done` with growing sleeps (5 us doubling up to 1 ms) until it holds or `timeout` passes.
pub fn wait_for<F: FnMut() -> bool>(timeout: Duration, mut done: F) -> bool {
    let deadline = Instant::now().checked_add(timeout).unwrap();
    let mut step = 5u64;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return done();
        }
        time::sleep_us(step);
        step = (step * 2).min(1000);
    }
}

impl Port {
    pub fn new(num: usize, slots: u32) -> Result<Port> {
        let list = unsafe { Dma::<u32>::zeroed_slice((CMD_LIST_BYTES + RX_FIS_BYTES) / 4)?.assume_init() };
        let tables = unsafe { Dma::<u32>::zeroed_slice(32 * TABLE_BYTES / 4)?.assume_init() };
        let scratch = Dma::buffer(512)?;
        Ok(Port {
            num, list, tables, scratch, slots, info: None,
            pending: VecDeque::new(), inflight: (0..32).map(|_| None).collect(),
            depth: 1, ncq: false, nonqueued: 0, peak: 0, resets: 0,
        })
    }

    fn off(&self, reg: usize) -> usize {
        port_base(self.num) + reg
    }
    pub fn read(&self, hba: &Mmio, reg: usize) -> u32 {
        hba.read32(self.off(reg))
    }
    pub fn write(&self, hba: &Mmio, reg: usize, v: u32) {
        hba.write32(self.off(reg), v)
    }

    /// Clears ST and waits for CR = 0 (10.3.2: within 500 ms).
    pub fn stop_engine(&self, hba: &Mmio) -> Result<()> {
        let cmd = self.read(hba, PX_CMD);
        if cmd & PCMD_ST != 0 {
            self.write(hba, PX_CMD, cmd & !PCMD_ST);
        }
        if !wait_for(Duration::from_millis(500), || self.read(hba, PX_CMD) & PCMD_CR == 0) {
            redox_driver::error!("port {}: PxCMD.CR still 1 500 ms after clearing ST", self.num);
            return Err(Error::new(ETIMEDOUT));
        }
        Ok(())
    }

    /// Clears FRE and waits for FR = 0 (10.3.2).
    pub fn stop_fis(&self, hba: &Mmio) -> Result<()> {
        let cmd = self.read(hba, PX_CMD);
        if cmd & PCMD_FRE != 0 {
            self.write(hba, PX_CMD, cmd & !PCMD_FRE);
        }
        if !wait_for(Duration::from_millis(500), || self.read(hba, PX_CMD) & PCMD_FR == 0) {
            redox_driver::error!("port {}: PxCMD.FR still 1 500 ms after clearing FRE", self.num);
            return Err(Error::new(ETIMEDOUT));
        }
        Ok(())
    }

    /// Points the port at its command list and FIS area and enables FIS reception (10.1.2 steps 5-6).
    pub fn attach_memory(&self, hba: &Mmio, s64a: bool) -> Result<()> {
        let clb = self.list.physical();
        let fb = clb + CMD_LIST_BYTES as u64;
        if !s64a && (clb >> 32 != 0 || self.tables.physical() >> 32 != 0) {
            redox_driver::error!("port {}: DMA memory above 4 GiB but the HBA has no 64-bit addressing", self.num);
            return Err(Error::new(ENOMEM));
        }
        self.write(hba, PX_CLB, clb as u32);
        self.write(hba, PX_CLBU, (clb >> 32) as u32);
        self.write(hba, PX_FB, fb as u32);
        self.write(hba, PX_FBU, (fb >> 32) as u32);
        let cmd = self.read(hba, PX_CMD);
        self.write(hba, PX_CMD, cmd | PCMD_FRE);
        Ok(())
    }

    pub fn link_up(&self, hba: &Mmio) -> bool {
        self.read(hba, PX_SSTS) & DET_MASK == DET_PRESENT
    }

    /// COMRESET (10.4.2): SCTL.DET = 1 for at least 1 ms, then 0; waits for the link. The engine must be stopped.
    pub fn comreset(&self, hba: &Mmio, link_timeout: Duration) -> bool {
        let sctl = self.read(hba, PX_SCTL) & !DET_MASK;
        self.write(hba, PX_SCTL, sctl | SCTL_DET_INIT);
        time::sleep_ms(1);
        self.write(hba, PX_SCTL, sctl);
        let up = wait_for(link_timeout, || self.link_up(hba));
        // The link coming up sets SERR.DIAG bits (PhyRdy change, exchanged); clear them all.
        self.write(hba, PX_SERR, u32::MAX);
        up
    }

    /// Waits for the device to end its reset (PxTFD BSY and DRQ clear, the signature FIS received).
    pub fn wait_ready(&self, hba: &Mmio, timeout: Duration) -> bool {
        wait_for(timeout, || self.read(hba, PX_TFD) & (TFD_BSY | TFD_DRQ) == 0)
    }

    /// Sets ST (10.3.1: FRE set and CR clear first).
    pub fn start(&self, hba: &Mmio) {
        let cmd = self.read(hba, PX_CMD);
        self.write(hba, PX_CMD, cmd | PCMD_FRE | PCMD_ST);
    }

    /// Clears every PxSERR and PxIS bit (both write-1-to-clear).
    pub fn clear_errors(&self, hba: &Mmio) {
        self.write(hba, PX_SERR, u32::MAX);
        self.write(hba, PX_IS, u32::MAX);
    }

    /// Builds `fis` in slot `slot`: the command FIS, a PRD table over the
    /// physically contiguous buffer (`len` bytes at `phys`, split into entries
    /// of at most 4 MiB, each an even count) and the command header.
    pub fn build(&mut self, slot: u32, fis: &H2dFis, write: bool, phys: u64, len: usize) {
        let s = slot as usize;
        let t = s * TABLE_BYTES / 4;
        let dw = fis.dwords();
        self.tables[t..t + 5].copy_from_slice(&dw);
        let mut prdtl = 0usize;
        let mut at = 0usize;
        assert!(len <= MAX_COMMAND_BYTES && len % 2 == 0, "transfer of {} bytes does not fit a command table", len);
        while at < len {
            let n = (len - at).min(PRD_MAX);
            let e = t + (CT_PRDT + prdtl * PRD_BYTES) / 4;
            let a = phys + at as u64;
            self.tables[e] = a as u32;
            self.tables[e + 1] = (a >> 32) as u32;
            self.tables[e + 2] = 0;
            // DBC is the byte count minus one; its bit 0 is always 1 (even counts). No interrupt per entry.
            self.tables[e + 3] = (n - 1) as u32;
            prdtl += 1;
            at += n;
        }
        let ctba = self.tables.physical() + (s * TABLE_BYTES) as u64;
        let h = s * CMD_HEADER_BYTES / 4;
        // DW0: CFL (FIS length in dwords), W (host to device), PRDTL.
        self.list[h] = H2D_DWORDS | if write { 1 << 6 } else { 0 } | ((prdtl as u32) << 16);
        self.list[h + 1] = 0; // PRDBC, written back by the HBA
        self.list[h + 2] = ctba as u32;
        self.list[h + 3] = (ctba >> 32) as u32;
    }

    /// Runs one PIO data-in command (IDENTIFY, READ LOG EXT) on slot 0 by polling; the port must be started and idle.
    /// The data lands in `scratch`. On failure the port is left halted (the caller recovers it).
    pub fn polled(&mut self, hba: &Mmio, fis: &H2dFis, what: &str) -> Result<()> {
        let phys = self.scratch.physical();
        self.build(0, fis, false, phys, 512);
        self.write(hba, PX_CI, 1);
        let mut failed = false;
        let done = wait_for(Duration::from_millis(1000), || {
            failed = self.read(hba, PX_IS) & PIS_ERRORS != 0;
            failed || self.read(hba, PX_CI) & 1 == 0
        });
        if failed || !done {
            let tfd = self.read(hba, PX_TFD);
            redox_driver::error!("port {}: {} {}: TFD {:#x} ({})", self.num, what, if failed { "failed" } else { "timed out" },
                tfd, super::ata::status_text(tfd as u8, (tfd >> 8) as u8));
            return Err(Error::new(EIO));
        }
        self.write(hba, PX_IS, u32::MAX);
        Ok(())
    }

    /// Commands in flight.
    pub fn busy(&self) -> u32 {
        self.inflight.iter().filter(|s| s.is_some()).count() as u32
    }
}
