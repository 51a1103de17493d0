/**
 * Register access for the iwlwifi PCIe transport (Linux iwl-io.c and the
 * nic-access part of pcie/trans.c): CSR read/write/set/clear, bit polling
 * with 10 us busy-wait steps, NIC access (MAC_ACCESS_REQ), indirect PRPH and
 * SRAM access through the HBUS target registers.
 */
import { ETIMEDOUT } from '../../../kernel/errno.js';
import { CSR, GP_CNTRL, HBUS, PRPH_ADDR_MASK, PRPH_DWORD_ACCESS, RESET } from '../iwl-csr.js';
import type { IoMem, LinuxKpi, PciDev } from '../../linux-kpi/kpi.js';

/** Linux IWL_POLL_INTERVAL (us). */
export const POLL_INTERVAL_US = 10;
/** NIC access poll (us). */
export const NIC_ACCESS_TIMEOUT_US = 15000;

export class IwlIo {
  /** Times the NIC access poll timed out (each one wrote FORCE_NMI). */
  nicAccessTimeouts = 0;

  constructor(readonly k: LinuxKpi, readonly pdev: PciDev, readonly bar: IoMem) {}

  // ---- logging ------------------------------------------------------------
  err(msg: string): void { this.k.dev_err(this.pdev, msg); }
  warn(msg: string): void { this.k.dev_warn(this.pdev, msg); }
  info(msg: string): void { this.k.dev_info(this.pdev, msg); }
  dbg(msg: string): void { this.k.dev_dbg(this.pdev, msg); }

  // ---- CSR ------------------------------------------------------------------
  read32(off: number): number { return this.k.readl(this.bar, off) >>> 0; }
  write32(off: number, v: number): void { this.k.writel(v >>> 0, this.bar, off); }
  write8(off: number, v: number): void { this.k.writeb(v & 0xff, this.bar, off); }
  setBit(off: number, mask: number): void { this.write32(off, this.read32(off) | mask); }
  clearBit(off: number, mask: number): void { this.write32(off, this.read32(off) & ~mask); }
  /** Read-modify-write of the bits in `mask` to `value` (iwl_trans_set_bits_mask). */
  setBitsMask(off: number, mask: number, value: number): void {
    this.write32(off, (this.read32(off) & ~mask) | (value & mask));
  }

  /**
   * iwl_poll_bit: busy-waits until `(reg & mask) == (bits & mask)`, reading
   * every 10 us, for up to `timeoutUs`. Returns the time waited (us) or
   * -ETIMEDOUT.
   */
  pollBit(off: number, bits: number, mask: number, timeoutUs: number): number {
    let t = 0;
    do {
      if (((this.read32(off) & mask) >>> 0) === ((bits & mask) >>> 0)) return t;
      this.k.udelay(POLL_INTERVAL_US);
      t += POLL_INTERVAL_US;
    } while (t < timeoutUs);
    return -ETIMEDOUT;
  }

  // ---- NIC access -------------------------------------------------------------
  /**
   * Wakes the MAC for device-internal access: MAC_ACCESS_REQ, then poll for
   * CLOCK_READY with GOING_TO_SLEEP clear (15 ms). On timeout the driver
   * forces an NMI (RESET.FORCE_NMI) and gives up.
   */
  grabNicAccess(): boolean {
    this.setBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    const r = this.pollBit(CSR.GP_CNTRL, GP_CNTRL.MAC_CLOCK_READY,
      GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP, NIC_ACCESS_TIMEOUT_US);
    if (r < 0) {
      const cntrl = this.read32(CSR.GP_CNTRL);
      this.nicAccessTimeouts++;
      this.err(`Timeout waiting for hardware access (CSR_GP_CNTRL 0x${hex(cntrl)})`);
      this.write32(CSR.RESET, RESET.FORCE_NMI);
      return false;
    }
    return true;
  }

  /**
   * Ends device-internal access (MAC_ACCESS_REQ cleared) unless a host
   * command in flight holds the NIC awake (Linux's cmd_hold_nic_awake).
   */
  releaseNicAccess(): void {
    if (this.cmdHoldNicAwake) return;
    this.clearBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
  }

  /**
   * Host commands on the 7000 family (apmg_wake_up_wa): MAC_ACCESS_REQ is
   * set and the MAC awake before a command is queued, and kept set until the
   * command queue is empty again, so the NIC cannot sleep with a command in
   * flight. false (and MAC_ACCESS_REQ dropped) when the MAC does not wake
   * within 15 ms.
   */
  cmdHoldNicAwake = false;
  holdNicAwakeForCmd(): boolean {
    if (this.cmdHoldNicAwake) return true;
    this.setBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    const r = this.pollBit(CSR.GP_CNTRL, GP_CNTRL.MAC_CLOCK_READY, GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP, NIC_ACCESS_TIMEOUT_US);
    if (r < 0) {
      this.clearBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
      this.err('Failed to wake NIC for hcmd');
      return false;
    }
    this.cmdHoldNicAwake = true;
    return true;
  }

  /** The command queue drained: the hold ends. */
  releaseCmdHold(): void {
    if (!this.cmdHoldNicAwake) return;
    this.cmdHoldNicAwake = false;
    this.clearBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
  }

  // ---- PRPH -----------------------------------------------------------------
  prphReadNoGrab(addr: number): number {
    this.write32(HBUS.TARG_PRPH_RADDR, (addr & PRPH_ADDR_MASK) | PRPH_DWORD_ACCESS);
    return this.read32(HBUS.TARG_PRPH_RDAT);
  }

  prphWriteNoGrab(addr: number, v: number): void {
    this.write32(HBUS.TARG_PRPH_WADDR, (addr & PRPH_ADDR_MASK) | PRPH_DWORD_ACCESS);
    this.write32(HBUS.TARG_PRPH_WDAT, v);
  }

  /** iwl_read_prph: with NIC access; 0xA5A5A5A5 when access fails (as Linux returns). */
  prphRead(addr: number): number {
    if (!this.grabNicAccess()) return 0xa5a5a5a5;
    const v = this.prphReadNoGrab(addr);
    this.releaseNicAccess();
    return v;
  }

  prphWrite(addr: number, v: number): void {
    if (!this.grabNicAccess()) return;
    this.prphWriteNoGrab(addr, v);
    this.releaseNicAccess();
  }

  prphSetBits(addr: number, mask: number): void {
    if (!this.grabNicAccess()) return;
    this.prphWriteNoGrab(addr, (this.prphReadNoGrab(addr) | mask) >>> 0);
    this.releaseNicAccess();
  }

  prphClearBits(addr: number, mask: number): void {
    if (!this.grabNicAccess()) return;
    this.prphWriteNoGrab(addr, (this.prphReadNoGrab(addr) & ~mask) >>> 0);
    this.releaseNicAccess();
  }

  // ---- SRAM -------------------------------------------------------------------
  /** iwl_trans_write_mem: `count` dwords at `addr` (zeros when `vals` is null). */
  memWrite(addr: number, vals: readonly number[] | null, count: number): boolean {
    if (!this.grabNicAccess()) return false;
    this.write32(HBUS.TARG_MEM_WADDR, addr);
    for (let i = 0; i < count; i++) this.write32(HBUS.TARG_MEM_WDAT, vals === null ? 0 : (vals[i] ?? 0));
    this.releaseNicAccess();
    return true;
  }

  memWrite32(addr: number, v: number): boolean { return this.memWrite(addr, [v], 1); }

  memRead32(addr: number): number {
    if (!this.grabNicAccess()) return 0xa5a5a5a5;
    this.write32(HBUS.TARG_MEM_RADDR, addr);
    const v = this.read32(HBUS.TARG_MEM_RDAT);
    this.releaseNicAccess();
    return v;
  }
}

export function hex(v: number, digits = 8): string {
  return (v >>> 0).toString(16).padStart(digits, '0');
}
