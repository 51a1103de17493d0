/** Release, image check, ALIVE, quirks, FwFaults, halt, determinism. */
import { describe, expect, it } from 'vitest';
import { makeSimfSections, SIMRUN_CAPA, encodeVer } from '../../../../src/devices/iwlwifi/firmware/index.js';
import {
  ALIVE_STATUS_ERR, ALIVE_STATUS_OK, ALIVE_V3, CMD, GROUP, INIT_COMPLETE_SIZE, NVM_ACCESS, PHY_CONFIGURATION,
  SEQ_UNSOLICITED,
} from '../../../../src/devices/iwlwifi/fw-api.js';
import { INT, SCD_SRAM_BASE_VALUE } from '../../../../src/devices/iwlwifi/regs.js';
import { IMAGE, MS, boot, le, rig, send, u16, u32 } from './helpers.js';

const quirkImage = (capa: number[]) => makeSimfSections('init', encodeVer({ major: 29, minor: 0, api: 29, serial: 5 }), 29005,
  [{ dest: 0, size: 0x1000 }, { dest: 0x800000, size: 0x200 }], capa);

describe('release and ALIVE', () => {
  it('posts a 68-byte ALIVE v3 with status 0xCAFE and the SCD base', () => {
    const r = rig();
    r.host.load(IMAGE.sections.init);
    r.cpu.release();
    expect(r.cpu.running).toBe(false);
    r.host.run(1 * MS);
    expect(r.host.posted).toHaveLength(0);
    r.host.run(4 * MS);
    const [alive, ...rest] = r.host.take();
    expect(rest).toHaveLength(0);
    expect(alive).toMatchObject({ cmd: CMD.ALIVE, group: 0, seq: SEQ_UNSOLICITED });
    const p = alive!.payload;
    expect(p.length).toBe(ALIVE_V3.SIZE);
    expect(u16(p, ALIVE_V3.STATUS)).toBe(ALIVE_STATUS_OK);
    expect(u32(p, ALIVE_V3.SCD_BASE_PTR)).toBe(SCD_SRAM_BASE_VALUE);
    expect(u32(p, ALIVE_V3.LMAC_MAJOR)).toBe(29);
    expect(u32(p, ALIVE_V3.LMAC_MINOR)).toBe(0);
    expect(p[ALIVE_V3.VER_TYPE]).toBe(1);
    expect(u32(p, ALIVE_V3.ERROR_EVENT_TABLE_PTR)).toBeGreaterThanOrEqual(0x800000);
    expect(alive!.time).toBeGreaterThanOrEqual(1 * MS);
    expect(alive!.time).toBeLessThan(5 * MS);
    expect(r.cpu.running).toBe(true);
    const m = r.host.milestones('fw.alive');
    expect(m).toEqual([expect.objectContaining({ a: 1, b: IMAGE.version.major << 24 | IMAGE.version.api << 8 | IMAGE.version.serial })]);
    expect(r.host.ints).toEqual([]);
  });

  it('reports the runtime image kind', () => {
    const r = rig();
    const [alive] = boot(r, 'runtime');
    expect(alive!.payload[ALIVE_V3.VER_TYPE]).toBe(2);
    expect(r.host.milestones('fw.alive')[0]!.a).toBe(2);
  });

  it('a damaged image gives SW_ERR, a guestErr and no ALIVE', () => {
    const r = rig();
    r.host.load(IMAGE.sections.init);
    const mem = r.host.sram.get(0x800000)!;
    mem[0x123] = mem[0x123]! ^ 0x40;
    r.cpu.release();
    r.host.run(10 * MS);
    expect(r.host.posted).toHaveLength(0);
    expect(r.host.ints).toEqual([INT.SW_ERR]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.bad-image']);
    expect(r.host.milestones('fw.bad-image')).toHaveLength(1);
    expect(r.cpu.running).toBe(false);
  });

  it('a partial runtime load over the INIT image is refused', () => {
    const r = rig();
    r.host.load(IMAGE.sections.init);
    for (const s of IMAGE.sections.runtime.slice(0, 1)) r.host.writeSram(s.dest, s.data);
    r.cpu.release();
    r.host.run(10 * MS);
    expect(r.host.ints).toEqual([INT.SW_ERR]);
  });

  it('empty SRAM: SW_ERR', () => {
    const r = rig();
    r.cpu.release();
    r.host.run(10 * MS);
    expect(r.host.ints).toEqual([INT.SW_ERR]);
    expect(r.host.posted).toHaveLength(0);
  });

  it('ignores commands before ALIVE and after a crash, with a guestErr', () => {
    const r = rig();
    send(r, CMD.ECHO, 0, new Uint8Array(0));
    r.host.load(IMAGE.sections.init);
    r.cpu.release();
    send(r, CMD.ECHO, 0, new Uint8Array(0));
    r.host.run(10 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.ALIVE]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.cmd-not-running', 'fw.cmd-not-running']);
  });
});

describe('quirk bits from the image', () => {
  it('FAULT_NO_ALIVE: no ALIVE', () => {
    const r = rig();
    expect(boot(r, 'init', quirkImage([SIMRUN_CAPA.FAULT_NO_ALIVE]))).toEqual([]);
    expect(r.cpu.running).toBe(false);
    expect(r.host.milestones('fw.alive-missing')).toHaveLength(1);
  });
  it('FAULT_ALIVE_STATUS: ALIVE with a bad status', () => {
    const r = rig();
    const [alive] = boot(r, 'init', quirkImage([SIMRUN_CAPA.FAULT_ALIVE_STATUS]));
    expect(u16(alive!.payload, ALIVE_V3.STATUS)).toBe(ALIVE_STATUS_ERR);
    expect(r.cpu.running).toBe(false);
  });
  it('FAULT_NO_INIT_COMPLETE: calibration results but no INIT_COMPLETE', () => {
    const r = rig();
    boot(r, 'init', quirkImage([SIMRUN_CAPA.FAULT_NO_INIT_COMPLETE]));
    send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
    r.host.run(3000 * MS);
    const cmds = r.host.take().map((p) => p.cmd);
    expect(cmds).toEqual([CMD.PHY_CONFIGURATION, ...Array(4).fill(CMD.CALIB_RES_NOTIF_PHY_DB)]);
  });
  it('no quirks: a hand-made image boots normally', () => {
    const r = rig();
    const [alive] = boot(r, 'init', quirkImage([]));
    expect(u16(alive!.payload, ALIVE_V3.STATUS)).toBe(ALIVE_STATUS_OK);
  });
});

describe('FwFaults', () => {
  it("alive 'missing'", () => {
    const r = rig({ faults: { alive: 'missing' } });
    expect(boot(r)).toEqual([]);
    expect(r.cpu.running).toBe(false);
  });
  it("alive 'bad-status'", () => {
    const r = rig({ faults: { alive: 'bad-status' } });
    const [alive] = boot(r);
    expect(alive!.payload.length).toBe(ALIVE_V3.SIZE);
    expect(u16(alive!.payload, ALIVE_V3.STATUS)).not.toBe(ALIVE_STATUS_OK);
  });
  it('hwErrorDuringInit: HW_ERR right after the PHY_CONFIGURATION response, then silence', () => {
    const r = rig({ faults: { hwErrorDuringInit: true } });
    boot(r);
    send(r, CMD.BT_CONFIG, 0, le([3, 4], [0, 4]));
    send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
    r.host.run(100 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => p.cmd)).toEqual([CMD.BT_CONFIG, CMD.PHY_CONFIGURATION]);
    expect(r.host.ints).toEqual([INT.HW_ERR]);
    expect(r.cpu.running).toBe(false);
    send(r, CMD.ECHO, 0, new Uint8Array(0));
    r.host.run(10 * MS);
    expect(r.host.take()).toEqual([]);
  });
  it('delayCmd delays exactly that command', () => {
    const r = rig({ faults: { delayCmd: { cmd: CMD.NVM_ACCESS, group: GROUP.LEGACY, delayMs: 2500 } } });
    boot(r);
    const t0 = r.host.queue.now;
    send(r, CMD.ECHO, 0, new Uint8Array(0));
    send(r, CMD.NVM_ACCESS, 0, le([0, 1], [0, 1], [0, 2], [0, 2], [64, 2]));
    r.host.run(2000 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.ECHO]);
    r.host.run(1000 * MS);
    const [nvm] = r.host.take();
    expect(nvm!.cmd).toBe(CMD.NVM_ACCESS);
    expect(nvm!.time - t0).toBeGreaterThanOrEqual(2500 * MS);
    expect(nvm!.time - t0).toBeLessThan(2501 * MS);
  });
});

describe('halt and determinism', () => {
  it('halt cancels pending work and forgets state', () => {
    const r = rig();
    boot(r);
    send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
    r.host.run(15 * MS);
    expect(r.host.take().length).toBe(2); // response + first CALIB_RES
    r.cpu.halt();
    expect(r.cpu.running).toBe(false);
    expect(r.host.queue.pending).toBe(0);
    r.host.run(3000 * MS);
    expect(r.host.take()).toEqual([]);
    // Runs again after a new release.
    expect(boot(r).map((p) => p.cmd)).toEqual([CMD.ALIVE]);
  });

  it('the same seed gives the same packets, times and state hash', () => {
    const runOnce = (seed: number) => {
      const r = rig({ seed });
      const out = boot(r);
      send(r, CMD.BT_CONFIG, 0, le([3, 4], [0, 4]));
      send(r, CMD.NVM_ACCESS, 0, le([0, 1], [0, 1], [1, 2], [0, 2], [2048, 2]));
      send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
      r.host.run(100 * MS);
      out.push(...r.host.take());
      return { out, hash: r.cpu.stateHash(), stats: r.cpu.stats() };
    };
    const a = runOnce(7);
    expect(runOnce(7)).toEqual(a);
    expect(a.stats).toMatchObject({ commands: 3, responses: 3, notifications: 6 });
    expect(a.out.at(-1)!.payload.length).toBe(INIT_COMPLETE_SIZE);
    expect(runOnce(8).out.map((p) => p.time)).not.toEqual(a.out.map((p) => p.time));
    expect(NVM_ACCESS.SIZE).toBe(8);
  });
});
