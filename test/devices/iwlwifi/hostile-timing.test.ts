/**
 * Hostile timing of the iwlwifi model (machine option `hostileTiming`,
 * README "Hostile timing"): the transport's handshakes, service channel,
 * TFD fetches and MSI messages, and the firmware's ALIVE, command
 * responses, RX DMA and transmissions take seeded latencies within their
 * ranges; off, the documented fixed ones. End to end: the wifi scenario
 * still passes, at other times, the same for a seed every time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSR, GP_CNTRL, INT, RESET } from '../../../src/devices/iwlwifi/regs.js';
import { HostileTiming, Timing } from '../../../src/devices/iwlwifi/transport/timing.js';
import { HostileFwTiming } from '../../../src/devices/iwlwifi/fw/hostile-timing.js';
import { BOOT_TIME, COMMAND_LATENCY } from '../../../src/devices/iwlwifi/fw/index.js';
import { CMD, STATUS_OK } from '../../../src/devices/iwlwifi/fw-api.js';
import { runScenario, type RunOptions } from '../../../src/machine/run.js';
import { parseScenario } from '../../../src/machine/scenario.js';
import { openTrace } from '../../../src/trace/reader.js';
import { Harness } from './transport/harness.js';
import { IMAGE, MS, US, le, rig, send } from './fw/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const WIFI = join(ROOT, 'fixtures/scenarios/wifi-connect.json');

/** INIT_DONE -> MAC_CLOCK_READY in a fresh transport. */
function clockReadyDelay(opts: { hostileTiming?: boolean; seed?: number }): number {
  const h = new Harness(opts);
  const t0 = h.now;
  h.set(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
  expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(0);
  h.settle();
  expect(h.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY).toBe(GP_CNTRL.MAC_CLOCK_READY);
  return h.now - t0;
}

/** Kick -> 'fw.chunk' milestone of one 4 KiB chunk. */
function chunkTime(opts: { hostileTiming?: boolean; seed?: number }): number {
  const h = new Harness(opts);
  h.grabNic();
  const t0 = h.now;
  h.loadChunk(0, new Uint8Array(4096).fill(7), false);
  h.settle();
  return h.milestones('fw.chunk')[0]!.time - t0;
}

const within = (v: number, r: readonly [number, number]): void => {
  expect(v).toBeGreaterThanOrEqual(r[0]);
  expect(v).toBeLessThanOrEqual(r[1]);
};

describe('iwlwifi hostile timing: transport', () => {
  it('off: the fixed delays whatever the seed', () => {
    expect(clockReadyDelay({ seed: 1 })).toBe(Timing.CLOCK_READY);
    expect(clockReadyDelay({ seed: 9 })).toBe(Timing.CLOCK_READY);
    expect(chunkTime({ seed: 3 })).toBe(Timing.SRVC_SETUP + 4096 * Timing.SRVC_PS_PER_BYTE);
  });

  it('on: MAC clock ready and the service channel vary within their ranges, the same for a seed', () => {
    const clocks = [1, 2, 3, 4, 5, 6].map((seed) => clockReadyDelay({ hostileTiming: true, seed }));
    for (const d of clocks) within(d, HostileTiming.CLOCK_READY);
    expect(new Set(clocks).size).toBeGreaterThan(1);
    expect(clockReadyDelay({ hostileTiming: true, seed: 4 })).toBe(clocks[3]);
    const chunks = [1, 2, 3, 4].map((seed) => chunkTime({ hostileTiming: true, seed }));
    for (const d of chunks) {
      within(d, [HostileTiming.SRVC_SETUP[0] + 4096 * HostileTiming.SRVC_PS_PER_BYTE[0], HostileTiming.SRVC_SETUP[1] + 4096 * HostileTiming.SRVC_PS_PER_BYTE[1]]);
    }
    expect(new Set(chunks).size).toBeGreaterThan(1);
  });

  it('on: the MSI message follows the ICT entry later; the cause is in CSR_INT at once; a reset drops it', () => {
    const h = new Harness({ hostileTiming: true, seed: 2 });
    const ict = h.enableIct();
    h.w32(CSR.INT_MASK, INT.ALIVE);
    const t0 = h.now;
    h.dev.raiseInt(INT.ALIVE);
    expect(h.r32(CSR.INT) & INT.ALIVE).toBe(INT.ALIVE);
    expect(h.ram32(ict)).not.toBe(0); // the ICT entry is written with the signal
    expect(h.irq.messages).toEqual([]);
    h.settle();
    expect(h.irq.messages).toEqual([0]);
    within(h.irq.messageTimes[0]! - t0, HostileTiming.MSI_DELAY);
    // A signal whose message is still in flight at a software reset is dropped.
    h.w32(CSR.INT, INT.ALIVE);
    h.dev.raiseInt(INT.ALIVE);
    h.w32(CSR.RESET, RESET.SW_RESET);
    h.settle();
    expect(h.irq.messages).toEqual([0]);
  });

  it('off: the message goes with the signal', () => {
    const h = new Harness({ seed: 2 });
    h.w32(CSR.INT_MASK, INT.ALIVE);
    h.dev.raiseInt(INT.ALIVE);
    expect(h.irq.messages).toEqual([0]);
  });
});

describe('iwlwifi hostile timing: firmware', () => {
  /** Release -> ALIVE in the RX ring. */
  function aliveAt(opts: { hostile?: boolean; seed?: number }): number {
    const r = rig(opts);
    r.host.load(IMAGE.sections.init);
    r.cpu.release();
    r.host.run(200 * MS);
    const alive = r.host.take().find((p) => p.cmd === CMD.ALIVE);
    return alive!.time;
  }

  it('ALIVE after the firmware load: within BOOT (+ RX DMA) with hostile timing, the fixed 2-2.5 ms without', () => {
    for (const seed of [1, 2, 3]) {
      const t = aliveAt({ seed });
      expect(t).toBeGreaterThanOrEqual(BOOT_TIME);
      expect(t).toBeLessThanOrEqual(BOOT_TIME + 500 * US);
    }
    const times = [1, 2, 3, 4, 5].map((seed) => aliveAt({ hostile: true, seed }));
    for (const t of times) within(t, [HostileFwTiming.BOOT[0], HostileFwTiming.BOOT[1] + HostileFwTiming.RX_DMA[1]]);
    expect(new Set(times).size).toBeGreaterThan(1);
    expect(aliveAt({ hostile: true, seed: 3 })).toBe(times[2]);
  });

  it('command responses vary within their range and keep command order; packets keep their order', () => {
    const r = rig({ hostile: true, seed: 7 });
    r.host.load(IMAGE.sections.init);
    r.cpu.release();
    r.host.run(200 * MS);
    r.host.take();
    const t0 = r.host.queue.now;
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) seqs.push(send(r, CMD.ECHO, 0, new Uint8Array(0)));
    r.host.run(100 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => p.seq)).toEqual(seqs);
    for (const p of posted) expect(p.payload).toEqual(le([STATUS_OK, 4]));
    const first = posted[0]!.time - t0;
    within(first, [HostileFwTiming.COMMAND_LATENCY[0], HostileFwTiming.COMMAND_LATENCY[1] + HostileFwTiming.RX_DMA[1]]);
    const gaps = posted.slice(1).map((p, i) => p.time - posted[i]!.time);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(0);
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });

  it('off: a command response after COMMAND_LATENCY + 0..8 us', () => {
    const r = rig({ seed: 7 });
    r.host.load(IMAGE.sections.init);
    r.cpu.release();
    r.host.run(200 * MS);
    r.host.take();
    const t0 = r.host.queue.now;
    send(r, CMD.ECHO, 0, new Uint8Array(0));
    r.host.run(1 * MS);
    const [p] = r.host.take();
    within(p!.time - t0, [COMMAND_LATENCY, COMMAND_LATENCY + 8 * US]);
  });
});

describe('iwlwifi hostile timing: the wifi scenario', () => {
  function run(opts: RunOptions) {
    const out = runScenario(WIFI, { ...opts, recordToBuffer: true });
    const buffer = Buffer.from(out.trace!.buffer!);
    const times = [...openTrace(out.trace!.buffer!).events()].filter((e) => e.kind === 'msi' || e.kind === 'dma').map((e) => e.time);
    return { result: out.result, buffer, times };
  }

  it('passes with hostile timing, at other times than the default run, the same trace for a seed twice', () => {
    const plain = run({});
    expect(plain.buffer.compare(readFileSync(join(ROOT, 'traces/wifi-connect.simtrace')))).toBe(0);
    const a = run({ hostileTiming: true });
    const b = run({ hostileTiming: true });
    const c = run({ hostileTiming: true, seed: 2 });
    for (const r of [a, c]) {
      expect(r.result.failures).toEqual([]);
      expect(r.result.guestErrors).toBe(0);
    }
    expect(a.buffer.compare(b.buffer)).toBe(0);
    expect(a.buffer.compare(c.buffer)).not.toBe(0);
    expect(a.times).not.toEqual(plain.times);
    expect(a.times.length).toBeGreaterThan(1000);
    expect((openTrace(new Uint8Array(a.buffer)).header.machine as { hostileTiming?: boolean }).hostileTiming).toBe(true);
  }, 120_000);

  it('machine.hostileTiming in the scenario file does the same as the run option', () => {
    const json = JSON.parse(readFileSync(WIFI, 'utf8')) as Record<string, any>;
    json.machine.hostileTiming = true;
    const fromFile = runScenario(parseScenario(json, WIFI, 'test'), { recordToBuffer: true });
    const fromOption = runScenario(WIFI, { hostileTiming: true, recordToBuffer: true });
    expect(fromFile.result.failures).toEqual([]);
    // The same events (the headers name the scenario differently).
    const events = (b: Uint8Array): string => JSON.stringify([...openTrace(b).events()], (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    expect(events(fromFile.trace!.buffer!)).toBe(events(fromOption.trace!.buffer!));
  }, 120_000);
});
