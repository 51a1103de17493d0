import { describe, expect, it } from 'vitest';
import { runRecorded } from './helpers.js';
import type { SeqEvent } from '../../src/trace/reader.js';
import { CSR, GP_CNTRL } from '../../src/devices/iwlwifi/regs.js';
import { CMD } from '../../src/devices/iwlwifi/fw-api.js';
import { sameBytes } from '../../src/trace/compare/events.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { runReplayDevices } from '../../src/machine/replay/devices.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { wifiResultOf } from '../../src/workloads/wifi.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-wifi-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Ev = SeqEvent;
const idx = (evs: Ev[], pred: (e: Ev) => boolean): number => evs.findIndex(pred);
const logIdx = (evs: Ev[], text: string) => idx(evs, (e) => e.kind === 'log' && e.text.includes(text));
const rxPkt = (cmd: number) => (e: Ev) => e.kind === 'dma' && e.tag === 'iwl.rx' && e.data[4] === cmd;
const release = (e: Ev) => e.kind === 'mmio' && e.write && e.offset === CSR.RESET && e.value === 0;
const milestone = (name: string) => (e: Ev) => e.kind === 'milestone' && e.name === name;

/** Runs a fault scenario; its own expectations (outcome, driver log lines) must hold. */
function faultRun(name: string) {
  const run = runRecorded(`wifi-fault-${name}`);
  expect(run.result.failures, name).toEqual([]);
  expect(run.result.crashes).toEqual([]);
  return { run, evs: run.events() };
}

describe('Wi-Fi fault injection: each fault gives its failure, a driver log line and a trace that shows it', () => {
  it('corrupted firmware section: the firmware\'s self-check fails, SW error instead of ALIVE, bring-up fails', () => {
    const { run, evs } = faultRun('corrupt-section');
    expect(wifiResultOf(run.result.workload)!.failedStep).toBe('up');
    const bad = idx(evs, milestone('fw.bad-image'));
    expect(bad).toBeGreaterThan(idx(evs, release));
    expect(idx(evs, rxPkt(CMD.ALIVE))).toBe(-1);
    expect(logIdx(evs, 'Microcode SW error detected')).toBeGreaterThan(bad);
    expect(evs.some((e) => e.kind === 'guestErr' && /section \d+ at 0x/.test(e.message))).toBe(true);
  });

  it('ALIVE never sent: the driver waits the real 1 s, then fails', () => {
    const { evs } = faultRun('no-alive');
    const rel = evs[idx(evs, release)]!;
    const log = evs[logIdx(evs, 'timeout waiting for ALIVE')]!;
    expect(log.time - rel.time).toBeGreaterThanOrEqual(1e12);
    expect(log.time - rel.time).toBeLessThan(1.05e12);
    expect(idx(evs, rxPkt(CMD.ALIVE))).toBe(-1);
  });

  it('ALIVE with a bad status: the packet is on the ring, the driver refuses it', () => {
    const { evs } = faultRun('alive-status');
    const a = evs[idx(evs, rxPkt(CMD.ALIVE))] as Extract<Ev, { kind: 'dma' }>;
    const status = a.data[8]! | (a.data[9]! << 8);
    expect(status).not.toBe(0xcafe);
    expect(logIdx(evs, `Invalid ALIVE response: status 0x${status.toString(16)}`)).toBeGreaterThan(evs.indexOf(a));
  });

  it('hardware error during INIT: HW_ERR through the ICT right after PHY_CONFIGURATION', () => {
    const { evs } = faultRun('hw-error');
    const phyCfg = idx(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.tb' && e.data[0] === CMD.PHY_CONFIGURATION);
    // CSR_INT bit 29 appears in the ICT entry as bit 13 (bits 31:24 move to 15:8).
    const ict = idx(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.ict' && (e.data[1]! & 0x20) !== 0);
    expect(phyCfg).toBeGreaterThan(0);
    expect(ict).toBeGreaterThan(phyCfg);
    expect(logIdx(evs, 'Hardware error detected')).toBeGreaterThan(ict);
    expect(idx(evs, rxPkt(CMD.INIT_COMPLETE))).toBe(-1);
  });

  it('RF-kill asserted: GP_CNTRL reads radio off, no firmware is loaded', () => {
    const { evs } = faultRun('rfkill');
    const rd = idx(evs, (e) => e.kind === 'mmio' && !e.write && e.offset === CSR.GP_CNTRL && (e.value & GP_CNTRL.HW_RF_KILL_SW) === 0);
    expect(rd).toBeGreaterThan(0);
    expect(logIdx(evs, 'RF-kill switch is on')).toBeGreaterThan(rd);
    expect(evs.some((e) => e.kind === 'dma' && e.tag === 'iwl.fw-chunk')).toBe(false);
  });

  it('command response delayed past the timeout: the driver gives up after 2 s, the late response still arrives', () => {
    const { evs } = faultRun('cmd-timeout');
    const sent = idx(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.tb' && e.data[0] === CMD.NVM_ACCESS);
    const gaveUp = logIdx(evs, 'Error sending NVM_ACCESS (0x88): time out after 2000ms');
    // The driver starts its 2 s timer when it rings the doorbell, just before the device fetches the TFD.
    expect(evs[gaveUp]!.time - evs[sent]!.time).toBeGreaterThanOrEqual(1.999e12);
    const late = idx(evs, (e) => e.kind === 'dma' && e.tag === 'iwl.rx' && e.data[4] === CMD.NVM_ACCESS);
    // The response comes 2.5 s after the command, or never (the driver stopped the device first).
    if (late >= 0) expect(late).toBeGreaterThan(gaveUp);
  });

  it('lost RX interrupt: no message for one RX, the periodic RX interrupt recovers it, the ping is late but answered', () => {
    const { run, evs } = faultRun('lost-rx-irq');
    const lost = idx(evs, milestone('fault.lost-rx-irq'));
    expect(lost).toBeGreaterThan(0);
    const warn = logIdx(evs, 'lost RX interrupt');
    expect(warn).toBeGreaterThan(lost);
    // No interrupt for ~the periodic interval after the lost one.
    const nextMsi = evs.findIndex((e, i) => i > lost && e.kind === 'msi');
    expect(evs[nextMsi]!.time - evs[lost]!.time).toBeGreaterThan(2e9);
    const w = wifiResultOf(run.result.workload)!;
    expect(w.pingsOk).toBe(w.pingsSent);
    expect(Math.max(...w.rtts)).toBeGreaterThan(Math.min(...w.rtts) + 2e9);
  });

  it('a DMA fault (faultDmaError "rx"): FH_INT bit 31 and HW_ERR; the RX ack (0x40030000) never clears bit 31, the driver reads it and reports a DMA error', async () => {
    const { parseScenario } = await import('../../src/machine/scenario.js');
    const { runScenario } = await import('../../src/machine/run.js');
    const { openTrace } = await import('../../src/trace/reader.js');
    const { scenarioPath } = await import('./helpers.js');
    const { readFileSync } = await import('node:fs');
    const path = scenarioPath('wifi-fault-hw-error');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.machine.devices[0].props = { rf: '../rf/small.json', faultDmaError: 'rx' };
    json.expect = { wifiOutcome: 'fail:up', crashes: 0, logContains: ['Hardware error detected', 'FH DMA error (CSR_FH_INT_STATUS 0x80000000)'] };
    const out = runScenario(parseScenario(json, path, 'dma'), { recordToBuffer: true });
    expect(out.result.failures).toEqual([]);
    const evs = [...openTrace(out.trace!.buffer!).events()];
    const fault = idx(evs, milestone('fault.dma-error'));
    expect(fault).toBeGreaterThan(idx(evs, rxPkt(CMD.ALIVE)));
    const fhAcks = evs.filter((e) => e.kind === 'mmio' && e.write && e.offset === CSR.FH_INT_STATUS).map((e) => (e.kind === 'mmio' ? e.value >>> 0 : 0));
    expect(fhAcks).toContain(0x40030000);
    expect(fhAcks).not.toContain(0xc0030000);
    const fhRead = evs.findIndex((e, i) => i > fault && e.kind === 'mmio' && !e.write && e.offset === CSR.FH_INT_STATUS);
    expect(fhRead).toBeGreaterThan(fault);
    expect((evs[fhRead]! as { value: number }).value >>> 0).toBe(0x80000000);
    expect(logIdx(evs, 'FH DMA error')).toBeGreaterThan(fhRead);
  });

  it('the outcome expectation is checked: expecting "ok" from the RF-kill run fails and says how it ended', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseScenario } = await import('../../src/machine/scenario.js');
    const { runScenario } = await import('../../src/machine/run.js');
    const { scenarioPath } = await import('./helpers.js');
    const path = scenarioPath('wifi-fault-rfkill');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.expect = { wifiOutcome: 'ok', minPings: 1 };
    const r = runScenario(parseScenario(json, path, 'x'), {}).result;
    expect(r.failures).toContain('expected at least 1 answered pings, got 0');
    expect(r.failures.some((f) => /expected the Wi-Fi workload to end "ok", it ended "fail:up"/.test(f))).toBe(true);
  });

  it('is deterministic: the same fault scenario and seed give the same trace bytes', () => {
    const a = runRecorded('wifi-fault-corrupt-section');
    const b = runRecorded('wifi-fault-corrupt-section');
    expect(sameBytes(a.buffer, b.buffer)).toBe(true);
  });

  it.each(['corrupt-section', 'no-alive', 'alive-status', 'hw-error', 'rfkill', 'cmd-timeout', 'lost-rx-irq'])(
    'a captured %s failure replays both ways without divergence (trace as hardware, trace as driver)', (name) => {
      const run = runRecorded(`wifi-fault-${name}`);
      const path = join(dir, `${name}.simtrace`);
      writeFileSync(path, run.buffer);
      const quiet = { decoders: deviceDecoders(), out: () => {} };
      expect(runReplayHardware({ trace: path, ...quiet }).exitCode).toBe(0);
      expect(runReplayDevices({ trace: path, ...quiet }).exitCode).toBe(0);
    });
});
