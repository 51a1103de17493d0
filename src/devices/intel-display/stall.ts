/**
 * Stall diagnosis for the intel-display model (DeviceModel.stall): what a
 * driver may be polling for that does not come (a transcoder that never
 * started, a PLL that never locks, an armed flip on a stopped pipe, a power
 * well or DBUF request pending). Allocates only when asked.
 */
import { formatTime } from '../../sim/time.js';
import type { IntelDisplay } from './display.js';
import * as R from './regs.js';

function ago(at: number, now: number): string {
  return at < 0 ? '' : ` ${formatTime(Math.max(0, now - at))} ago`;
}

/** Lines naming what the display engine is stuck on at `now` (ps); empty when nothing is pending. */
export function displayStall(d: IntelDisplay, now: number): string[] {
  const out: string[] = [];
  for (let id = 0; id < 4; id++) {
    if (d.pllEnable[id] && !d.pllLocked[id]) {
      const why = id === d.cfg.pllNeverLocks ? ' (fault pllNeverLocks: it never will)' : '';
      out.push(`DPLL ${id} enabled${ago(d.pllEnabledAt[id]!, now)} (${R.registerName(R.PLL_CTL_REGS[id]!)}) but not locked${why}`);
    }
  }
  for (let p = 0; p < R.PIPES; p++) {
    const pipe = d.pipes[p]!;
    const P = R.pipeName(p);
    if (pipe.enabledAt >= 0 && !pipe.running) {
      out.push(`TRANSCONF ${P} enabled${ago(pipe.enabledAt, now)} but the pipe is not running (state bit 0)${pipe.blocked !== '' ? `: ${pipe.blocked}` : ''}`);
    }
    for (let n = 1; n <= R.PLANES; n++) {
      if (d.armed[p * R.PLANES + n - 1] === true && !pipe.running) {
        out.push(`PLANE_SURF_${n}_${P} armed a flip but pipe ${P} is not running: no vblank will complete it`);
      }
    }
    if (pipe.running && pipe.badSurface !== '') out.push(`pipe ${P} scans an unmapped surface: ${pipe.badSurface}`);
  }
  const req = d.wellReq.reduce((a, b) => a | b, 0) & R.WELL_REQ_MASK;
  const pending = ((req >>> 1) ^ d.wellState) & (R.WELL_REQ_MASK >>> 1);
  if (pending !== 0) out.push(`power well request and state differ (PWR_WELL_CTL state ${R.hex(d.wellState)}, requests ${R.hex(req)})`);
  if (((d.dbuf & R.DBUF_REQ) !== 0) !== ((d.dbuf & R.DBUF_STATE) !== 0)) out.push(`DBUF_CTL request and state differ (${R.hex(d.dbuf)})`);
  return out;
}
