/** Whatever bytes the driver sends, the firmware never throws, keeps serving commands, and stays deterministic. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CMD, GROUP, STATUS_OK, cmdGroup } from '../../../../src/devices/iwlwifi/fw-api.js';
import { FakeAir, MAC, MS, boot, cmdBytes, rig, scanCfgPayload, send, u32 } from './helpers.js';

const AP = { bssid: new Uint8Array([2, 1, 2, 3, 4, 5]), ssid: 'x', channel: 6, signalDbm: -40, beaconTu: 100 };
const CMDS = Object.values(CMD);

const command = fc.record({
  queue: fc.integer({ min: 0, max: 31 }),
  index: fc.integer({ min: 0, max: 255 }),
  raw: fc.boolean(),
  cmd: fc.constantFrom(...CMDS, 0x00, 0x77, 0xff),
  payload: fc.uint8Array({ maxLength: 120 }),
  lenDelta: fc.integer({ min: -8, max: 8 }),
  gapUs: fc.integer({ min: 0, max: 3000 }),
});

type Cmd = { queue: number; index: number; raw: boolean; cmd: number; payload: Uint8Array; lenDelta: number; gapUs: number };

/** Boots `kind`, sends `cmds`, then an ECHO; returns what the firmware did. */
function drive(kind: 'init' | 'runtime', cmds: Cmd[], rfkill: boolean) {
  const r = rig({ air: new FakeAir([AP]) });
  boot(r, kind);
  send(r, CMD.SCAN_CFG, GROUP.LONG, scanCfgPayload(MAC, [1, 6, 36]));
  if (rfkill) r.cpu.rfKill(true);
  let headerless = 0;
  for (const c of cmds) {
    const bytes = c.raw ? c.payload : cmdBytes(c.cmd, cmdGroup(c.cmd), (c.queue << 8) | c.index, c.payload);
    const len = bytes.length + c.lenDelta;
    if (Math.max(0, Math.min(len, bytes.length)) < 4) headerless++;
    r.cpu.command(c.queue, c.index, bytes, len);
    r.host.run(c.gapUs * 1_000_000);
  }
  r.host.run(3000 * MS);
  // Whatever came before, the firmware still serves a well-formed command.
  const echoAt = r.host.queue.now;
  const echoSeq = send(r, CMD.ECHO, cmdGroup(CMD.ECHO), new Uint8Array(0), 31);
  r.host.run(10 * MS);
  const hash = r.cpu.stateHash();
  const stats = r.cpu.stats();
  r.cpu.halt();
  return { r, headerless, echoAt, echoSeq, hash, stats, pendingAfterHalt: r.host.queue.pending };
}

describe('fuzz', () => {
  for (const kind of ['init', 'runtime'] as const) {
    it(`random commands to the ${kind} image never throw, never wedge the firmware, account for every command, and stay deterministic`, () => {
      fc.assert(fc.property(fc.array(command, { maxLength: 25 }), fc.boolean(), (cmds, rfkill) => {
        const a = drive(kind, cmds, rfkill);
        const { r, stats } = a;
        // Every command (SCAN_CFG, the fuzzed ones, the ECHO) was either processed or ignored with a guest error.
        expect(stats.commands! + stats.ignored!).toBe(cmds.length + 2);
        const short = r.host.errs.filter((e) => e.code === 'fw.cmd-short').length;
        expect(short).toBeGreaterThanOrEqual(a.headerless);
        expect(stats.guestErrs).toBe(r.host.errs.length);
        // Still alive: the ECHO after the storm is answered with STATUS_OK and its own sequence.
        const echo = r.host.posted.filter((p) => p.time > a.echoAt && p.cmd === CMD.ECHO && p.seq === a.echoSeq);
        expect(echo).toHaveLength(1);
        expect(u32(echo[0]!.payload, 0)).toBe(STATUS_OK);
        expect(a.pendingAfterHalt).toBe(0);
        // Deterministic: the same inputs give the same responses, guest errors and state.
        const b = drive(kind, cmds, rfkill);
        expect(b.hash).toBe(a.hash);
        expect(b.r.host.errs).toEqual(r.host.errs);
        expect(b.r.host.posted).toEqual(r.host.posted);
      }), { numRuns: 100 });
    });
  }

  it('odd lengths and empty buffers', () => {
    const r = rig();
    boot(r);
    for (const len of [-1, 0, 3, 1e9, Number.NaN, Infinity]) r.cpu.command(0, 0, new Uint8Array(2), len);
    r.cpu.command(0, 0, new Uint8Array(0), 0);
    r.host.run(10 * MS);
    expect(r.host.posted).toEqual([]);
  });
});
