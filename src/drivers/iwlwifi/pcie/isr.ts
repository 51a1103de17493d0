/**
 * Interrupt handling of the gen1 transport (Linux pcie/rx.c iwl_pcie_isr,
 * iwl_pcie_irq_handler, iwl_pcie_int_cause_ict/non_ict, iwl_pcie_napi_poll).
 * The hard part masks the device (INT_MASK = 0); the threaded part reads the
 * causes from the ICT table (or CSR_INT before ICT is on), acks them, handles
 * errors, RF-kill, firmware-load chunks and RX (scheduling NAPI), then
 * unmasks again.
 */
import { CSR, FH_INT, FH_INT_RX_MASK, FH_INT_TX_MASK, GP_CNTRL, INT } from '../iwl-csr.js';
import { IRQ_HANDLED, IRQ_NONE, type IrqReturn } from '../../linux-kpi/kpi.js';
import type { NapiStruct } from '../../linux-kpi/ext-types.js';
import { hex } from './io.js';
import { ictCollect, ictRawToInt } from './layout.js';
import { rxHandle } from './rx.js';
import { abortSync, stopWatchdogs } from './tx.js';
import type { PcieTrans } from './trans.js';
import { EIO } from '../../../kernel/errno.js';

/** CSR_INT_PERIODIC values: one-shot periodic RX interrupt (~8 ms) on / off. */
export const INT_PERIODIC_ENA = 0xff;
export const INT_PERIODIC_DIS = 0x00;

const RX_CAUSES = INT.FH_RX | INT.SW_RX | INT.RX_PERIODIC;

/** The interrupt handler installed with request_irq. */
export function iwlPcieIrq(t: PcieTrans): IrqReturn {
  const { io, k } = t;
  // Hard IRQ part: mask everything; the causes stay latched.
  io.write32(CSR.INT_MASK, 0);
  t.irqs++;

  let inta: number;
  if (t.useIct) inta = ictRawToInt(ictCollect(t.ict!.dv, 0, t.ictState));
  else inta = io.read32(CSR.INT);

  if (inta === 0) {
    // Shared line or a stray interrupt: nothing to do, unmask again.
    if (t.intOn) io.write32(CSR.INT_MASK, t.intaMask);
    return IRQ_NONE;
  }
  if (inta === 0xffffffff || ((inta & 0xfffffff0) >>> 0) === 0xa5a5a5a0) {
    io.warn(`HARDWARE GONE?? INTA == 0x${hex(inta)}`);
    return IRQ_HANDLED;
  }
  // Ack the causes seen, and anything pending that is masked anyway.
  io.write32(CSR.INT, (inta | ~t.intaMask) >>> 0);

  let handled = 0;
  if (inta & INT.HW_ERR) {
    io.err('Hardware error detected.');
    // The FH reports a failed DMA transfer in FH_INT_STATUS bit 31 (not part of the RX ack).
    const fh = io.read32(CSR.FH_INT_STATUS);
    if ((fh & FH_INT.ERR) !== 0) io.err(`FH DMA error (CSR_FH_INT_STATUS 0x${hex(fh)})`);
    t.disableInterrupts();
    handleError(t, 'hw', inta);
    return IRQ_HANDLED;
  }
  if (inta & INT.SW_ERR) {
    io.err(`Microcode SW error detected (CSR_INT 0x${hex(inta)}).`);
    handleError(t, 'sw', inta);
    handled |= INT.SW_ERR;
  }
  if (inta & INT.RF_KILL) {
    handleRfKill(t);
    handled |= INT.RF_KILL;
  }
  if (inta & INT.CT_KILL) {
    io.err('Microcode CT kill error detected.');
    handled |= INT.CT_KILL;
  }
  if (inta & INT.WAKEUP) handled |= INT.WAKEUP;
  if (inta & INT.ALIVE) handled |= INT.ALIVE;
  if (inta & RX_CAUSES) {
    if (inta & (INT.FH_RX | INT.SW_RX)) io.write32(CSR.FH_INT_STATUS, FH_INT_RX_MASK);
    if (inta & INT.RX_PERIODIC) io.write32(CSR.INT, INT.RX_PERIODIC);
    // The periodic interrupt is a one-shot: off now, re-armed after a real RX
    // interrupt to catch RX the device signalled before its status was visible.
    io.write8(CSR.INT_PERIODIC, INT_PERIODIC_DIS);
    if (inta & (INT.FH_RX | INT.SW_RX)) {
      // An RX cause that surfaces while the periodic interrupt's poll is
      // still pending was latched without an interrupt of its own: the
      // device signalled it only when the handler restored INT_MASK.
      if (t.rxByPeriodic && !t.rxByIrq) {
        io.warn('lost RX interrupt: FH_RX was pending without an interrupt; the periodic RX interrupt recovered it');
        t.rxRecovered++;
      }
      io.write8(CSR.INT_PERIODIC, INT_PERIODIC_ENA);
      t.rxByIrq = true;
    } else {
      t.rxByPeriodic = true;
    }
    handled |= inta & RX_CAUSES;
    k.napi_schedule(t.napi!);
  }
  if (inta & INT.FH_TX) {
    io.write32(CSR.FH_INT_STATUS, FH_INT_TX_MASK);
    k.complete(t.fwChunkDone);
    handled |= INT.FH_TX;
  }
  const unhandled = (inta & ~handled) >>> 0;
  if (unhandled !== 0) io.warn(`Unhandled INTA bits 0x${hex(unhandled)}`);
  if (t.intOn) io.write32(CSR.INT_MASK, t.intaMask);
  return IRQ_HANDLED;
}

/** SW_ERR / HW_ERR: firmware dead, sync waiter woken with -EIO, op mode told (once). */
function handleError(t: PcieTrans, kind: 'sw' | 'hw', inta: number): void {
  stopWatchdogs(t);
  t.fwError = true;
  abortSync(t, -EIO);
  if (!t.nicErrorReported) {
    t.nicErrorReported = true;
    t.opMode?.nicError(kind, inta);
  }
}

function handleRfKill(t: PcieTrans): void {
  const asserted = (t.io.read32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW) === 0;
  t.io.warn(`RF_KILL bit toggled to ${asserted ? 'disable' : 'enable'} radio.`);
  t.reportRfKill(asserted);
}

/** NAPI poll: RX handling within the budget; done when below it. */
export function iwlPcieNapiPoll(t: PcieTrans, napi: NapiStruct, budget: number): number {
  const n = rxHandle(t, budget);
  if (n < budget) {
    t.rxByIrq = false;
    t.rxByPeriodic = false;
    t.rxPollPackets = 0;
    t.k.napi_complete_done(napi, n);
  }
  return n;
}
