/**
 * Stall diagnosis for the AHCI HBA (DeviceModel.stall): per port, what the
 * issued commands are waiting for, read from the port state. Allocates only
 * when asked (once, at the end of a run).
 */
import { formatTime } from '../../sim/time.js';
import { ataCommandName } from './ata.js';
import type { AhciHba } from './hba.js';
import { SLOT_EXEC, SLOT_HUNG, SLOT_NCQ_ACTIVE, SLOT_NCQ_SENT } from './port.js';
import { CMD_ST, IS_HBFS, IS_IFS, IS_OFS, IS_TFES, SSTS_DET_PHY, hex } from './regs.js';

function ago(at: number, now: number): string {
  return at < 0 ? 'at an unknown time' : `${formatTime(Math.max(0, now - at))} ago`;
}

function oldest(bits: number, issuedAt: Float64Array): number {
  let t = Infinity;
  for (let s = 0; s < 32; s++) if ((bits & (1 << s)) !== 0 && issuedAt[s]! >= 0) t = Math.min(t, issuedAt[s]!);
  return t === Infinity ? -1 : t;
}

/** Lines naming what each port waits for at `now` (ps); empty when nothing is pending. */
export function ahciStall(h: AhciHba, now: number): string[] {
  const out: string[] = [];
  for (const p of h.ports) {
    const pending = (p.ci | p.sact) >>> 0;
    if (pending === 0) continue;
    const head = `port ${p.index}: CI ${hex(p.ci)}${p.sact !== 0 ? ` SACT ${hex(p.sact)}` : ''} issued ${ago(oldest(pending, p.issuedAt), now)}`;
    if ((p.cmd & CMD_ST) === 0) {
      out.push(`${head}, but PxCMD.ST is 0: nothing is processed`);
      continue;
    }
    if (!p.hasDevice) {
      out.push(`${head}: no device is attached to the port, the commands are never sent`);
      continue;
    }
    if ((p.ssts & 0xf) !== SSTS_DET_PHY) {
      out.push(`${head}: the link is down (PxSSTS.DET=${p.ssts & 0xf}${p.faultLinkDown ? ', dropped by fault' : ''}): commands on the device are lost, software must reset the port (COMRESET)`);
      continue;
    }
    if (p.halted) {
      const why = (p.is & IS_TFES) !== 0 ? `a task file error (PxIS.TFES, PxTFD ${hex(p.tfd)})`
        : (p.is & IS_HBFS) !== 0 ? 'a host bus fatal error (PxIS.HBFS)'
        : (p.is & IS_IFS) !== 0 ? 'an interface fatal error (PxIS.IFS)'
        : (p.is & IS_OFS) !== 0 ? 'a PRD table overflow (PxIS.OFS)' : 'a fatal error';
      out.push(`${head}: the port halted on ${why} at slot ${(p.cmd >>> 8) & 0x1f}; nothing more is processed until PxCMD.ST is cleared and set (6.2.2)`);
      continue;
    }
    const where: string[] = [];
    for (let s = 0; s < 32; s++) {
      const st = p.slotState[s];
      const what = `slot ${s} (${ataCommandName(p.slotCmd[s]!)})`;
      if (st === SLOT_EXEC) where.push(`${what} in progress`);
      else if (st === SLOT_NCQ_SENT) where.push(`${what} sent, not accepted yet`);
      else if (st === SLOT_NCQ_ACTIVE) where.push(`${what} queued on the device`);
      else if (st === SLOT_HUNG) where.push(`${what} never completed by the device (fault faultHangCommand)`);
    }
    if (p.ciPending !== 0) where.push(`${hex(p.ciPending)} waiting to be sent${(p.tfd & 0x80) !== 0 ? ' (PxTFD.BSY is set: the device is busy)' : ''}`);
    out.push(`${head}${where.length > 0 ? `: ${where.join(', ')}` : ''}`);
  }
  return out;
}
