import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecorded } from './helpers.js';
import type { SeqEvent } from '../../src/trace/reader.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { runReplayDevices } from '../../src/machine/replay/devices.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { blockIoResultOf } from '../../src/workloads/blockio.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-nvme-timeout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NVMe I/O timeout (fixtures/scenarios/nvme-fault-io-timeout.json)', () => {
  let run: ReturnType<typeof runRecorded>;
  let evs: SeqEvent[];
  beforeAll(() => {
    run = runRecorded('nvme-fault-io-timeout');
    evs = run.events();
  });

  it('a command the controller never starts times out, is aborted, and fails only its own request', () => {
    const r = run.result;
    expect(r.failures).toEqual([]);
    expect(blockIoResultOf(r.workload)!.ioErrors).toBe(1);
    expect(blockIoResultOf(r.workload)!.dataErrors).toBe(0);
    expect(r.ios).toBe(399);
    const stall = evs.findIndex((e) => e.kind === 'milestone' && e.name === 'fault.stall');
    expect(stall).toBeGreaterThan(0);
    const st = evs[stall] as Extract<typeof evs[number], { kind: 'milestone' }>;
    const [sqid, cid] = [st.a, st.b];
    // The Abort admin command names the stalled command: CDW10 = SQID | CID << 16 (NVMe 1.4 5.1).
    const abort = evs.findIndex((e, i) => i > stall && e.kind === 'dma' && e.tag === 'nvme.asqe' && e.data[0] === 0x08);
    expect(abort).toBeGreaterThan(stall);
    const sqe = evs[abort] as Extract<typeof evs[number], { kind: 'dma' }>;
    expect(new DataView(sqe.data.buffer, sqe.data.byteOffset).getUint32(40, true)).toBe((sqid | (cid << 16)) >>> 0);
    // The timeout is the driver's (500 ms here), in jiffies (1 ms) from submission.
    expect(sqe.time - st.time).toBeGreaterThanOrEqual(498e9);
    expect(sqe.time - st.time).toBeLessThan(520e9);
    // The stalled command completes with Command Abort Requested (SCT 0, SC 0x07) on its own queue.
    const cqe = evs.findIndex((e, i) => i > abort && e.kind === 'dma' && e.tag === 'nvme.cqe'
      && new DataView(e.data.buffer, e.data.byteOffset).getUint16(12, true) === cid
      && ((new DataView(e.data.buffer, e.data.byteOffset).getUint16(14, true) >>> 1) & 0xff) === 0x07);
    expect(cqe).toBeGreaterThan(abort);
    const logs = evs.filter((e): e is Extract<typeof evs[number], { kind: 'log' }> => e.kind === 'log').map((e) => e.text);
    expect(logs.some((l) => l.includes(`I/O ${cid} QID ${sqid} timeout, aborting`))).toBe(true);
    expect(logs.some((l) => /failed: Command Abort Requested/.test(l))).toBe(true);
  });

  it('state digests continue through the idle wait, and the trace replays both ways without divergence', () => {
    // The abort is sent from inside a task's MMIO access at a digest tick: the periodic digest must keep going.
    const digests = evs.filter((e) => e.kind === 'milestone' && e.name === 'state').map((e) => e.time);
    expect(digests.at(-1)!).toBeGreaterThan(505e9);
    const path = join(dir, 'timeout.simtrace');
    writeFileSync(path, run.buffer);
    const quiet = { decoders: deviceDecoders(), out: () => {} };
    expect(runReplayHardware({ trace: path, ...quiet }).exitCode).toBe(0);
    expect(runReplayDevices({ trace: path, ...quiet }).exitCode).toBe(0);
  });

  it('without the fault no I/O times out in the default scenario', () => {
    const plain = runRecorded('nvme-msix');
    expect(plain.events().some((e) => e.kind === 'log' && /timeout/.test(e.text))).toBe(false);
  });
});
