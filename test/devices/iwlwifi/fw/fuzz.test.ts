/** Whatever bytes the driver sends, the firmware never throws, and stays deterministic. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CMD, GROUP, cmdGroup } from '../../../../src/devices/iwlwifi/fw-api.js';
import { FakeAir, MAC, MS, boot, cmdBytes, rig, scanCfgPayload, send } from './helpers.js';

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

describe('fuzz', () => {
  for (const kind of ['init', 'runtime'] as const) {
    it(`random commands to the ${kind} image never throw`, () => {
      fc.assert(fc.property(fc.array(command, { maxLength: 25 }), fc.boolean(), (cmds, rfkill) => {
        const r = rig({ air: new FakeAir([AP]) });
        boot(r, kind);
        send(r, CMD.SCAN_CFG, GROUP.LONG, scanCfgPayload(MAC, [1, 6, 36]));
        if (rfkill) r.cpu.rfKill(true);
        for (const c of cmds) {
          const bytes = c.raw ? c.payload : cmdBytes(c.cmd, cmdGroup(c.cmd), (c.queue << 8) | c.index, c.payload);
          r.cpu.command(c.queue, c.index, bytes, bytes.length + c.lenDelta);
          r.host.run(c.gapUs * 1_000_000);
        }
        r.host.run(3000 * MS);
        expect(Number.isInteger(r.cpu.stateHash())).toBe(true);
        r.cpu.halt();
        expect(r.host.queue.pending).toBe(0);
      }), { numRuns: 150 });
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
