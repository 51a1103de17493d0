/**
 * virtio-blkd, the virtio-blk driver daemon in Rust (guest/rust/virtio-blkd
 * on the redox-driver and virtio-core crates, committed as
 * guest/modules/virtio-blkd.wasm), on the virtio-blk scenarios: every
 * expectation holds with MSI-X (one vector per request queue) and with INTx
 * (ISR read, line acknowledged), re-simulation matches the golden traces,
 * an IOERR range fails exactly the reads that touch it, a request the
 * device never completes fails after ioTimeoutMs, DEVICE_NEEDS_RESET fails
 * what is in flight and the device is set up again, runs are deterministic,
 * and the disk.virtio protocol answers as disk.nvme does (a client process
 * below).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import type { Sys } from '../../../src/kernel/sys.js';
import { EINVAL, ENOENT } from '../../../src/kernel/errno.js';
import { openTrace } from '../../../src/trace/reader.js';
import { blockIoResultOf } from '../../../src/workloads/blockio.js';
import type { VirtioBlk } from '../../../src/devices/virtio/blk/device.js';
import { DISK, ROOT, scenarioPath, simrunIn } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-virtio-blkd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type ScenarioJson = Record<string, unknown> & {
  drivers: Record<string, Record<string, unknown>>;
  machine: { devices: { props: Record<string, unknown> }[] };
  workload: Record<string, unknown>;
  expect?: Record<string, unknown>;
};

let copies = 0;
/** A copy of fixtures/scenarios/<name>.json, changed by `edit`, with the image path made absolute. */
function copyScenario(name: string, edit: (s: ScenarioJson) => void): string {
  const s = JSON.parse(readFileSync(scenarioPath(name), 'utf8')) as ScenarioJson;
  s.machine.devices[0]!.props.image = DISK;
  edit(s);
  const p = join(dir, `${name}-${++copies}.json`);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

const driverLogs = (out: ReturnType<typeof runScenario>) => out.machine.kernel.logs.filter((l) => l.proc === 'virtio-blkd');

describe.each(['msix', 'intx'] as const)('virtio-blkd on virtio-blk-%s', (mode) => {
  const trace = join(dir, `virtio-blk-${mode}.simtrace`);
  const out = runScenario(scenarioPath(`virtio-blk-${mode}`), { record: trace });

  it('passes the scenario: 1,200 reads and writes through disk.virtio:0, every read checked, no guest errors', () => {
    const r = out.result;
    expect(r.failures).toEqual([]);
    expect(r.crashes).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    const w = blockIoResultOf(r.workload)!;
    expect(w.reads + w.writes).toBe(1200);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBe(0);
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain(`interrupts: ${mode === 'intx' ? 'legacy, 1' : 'msix, 3'} vector(s)`);
    expect(logs).toContain(mode === 'msix'
      ? '2 request queue(s) of 128 entries, indirect descriptors, event index, 256 KiB per request'
      : '1 request queue(s) of 128 entries, 256 KiB per request');
    expect(logs).toContain('serial "SIMRUN-VBLK-0001"');
    expect(logs).toContain('serving disk.virtio: (disk.virtio:0)');
    const stats = r.deviceStats.vblk0!;
    expect(stats.getIds).toBe(1);
    expect(stats.flushes).toBe(4); // each client closes a handle that wrote
    expect(stats.guestErrors).toBe(0);
  });

  it('re-simulates identically to its golden trace', () => {
    const r = simrunIn(ROOT, 'check', `virtio-blk-${mode}`);
    expect(r.out).toMatch(/^verdict: IDENTICAL/m);
    expect(r.code).toBe(0);
  });

  if (mode === 'msix') {
    it('takes each request queue\'s completions on an MSI-X vector of its own (none on the configuration vector)', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      // The MSI-X table (BAR1): entry i's message data at 16 i + 8.
      const entryData = new Map<number, number>();
      for (const e of evs) if (e.kind === 'mmio' && e.write && e.bar === 1 && e.offset % 16 === 8) entryData.set(e.offset >> 4, e.value);
      expect([...entryData.keys()].sort()).toEqual([0, 1, 2]);
      // Common configuration (BAR4): config_msix_vector (0x10) = 0; queue_msix_vector (0x1a) = 1, then 2.
      const mmioW = (off: number) => evs.flatMap((e) => e.kind === 'mmio' && e.write && e.bar === 4 && e.offset === off ? [e.value] : []);
      expect(mmioW(0x10)).toEqual([0]);
      expect(mmioW(0x1a)).toEqual([1, 2]);
      const sent = new Set(evs.flatMap((e) => e.kind === 'msi' ? [e.data] : []));
      expect([...sent].sort()).toEqual([entryData.get(1), entryData.get(2)].sort());
      expect(evs.some((e) => e.kind === 'intx')).toBe(false);
    });
  } else {
    it('reads the ISR and acknowledges the legacy line: it rises and falls, no message is sent', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 1).length).toBeGreaterThan(100);
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 0).length).toBeGreaterThan(100);
      expect(evs.some((e) => e.kind === 'msi')).toBe(false);
    });
  }
});

describe('virtio-blkd', () => {
  it('fails with EIO exactly the reads that touch the IOERR range; every other read completes and verifies', () => {
    const out = runScenario(scenarioPath('virtio-blk-fault-ioerr'));
    expect(out.result.failures).toEqual([]);
    expect(out.result.crashes).toEqual([]);
    const w = blockIoResultOf(out.result.workload)!;
    expect(w.ioErrors).toBe(11);
    expect(w.dataErrors).toBe(0);
    expect(w.reads).toBe(789);
    expect(out.result.deviceStats.vblk0!.errors).toBe(11);
    // The range is sectors 2048..2303 (512-byte blocks): each failed read overlaps it.
    expect(w.problems).toHaveLength(11);
    for (const p of w.problems) {
      const m = /read of (\d+) blocks at LBA (\d+) returned EIO$/.exec(p);
      expect(m, p).not.toBeNull();
      const [n, lba] = [Number(m![1]), Number(m![2])];
      expect(lba < 2304 && lba + n > 2048, p).toBe(true);
    }
    const errors = driverLogs(out).filter((l) => l.level === 'error').map((l) => l.text);
    expect(errors).toHaveLength(11);
    for (const e of errors) expect(e).toMatch(/^read at byte \d+ \(sector \d+, \d+ bytes\) failed: IOERR$/);
    const r = simrunIn(ROOT, 'check', 'virtio-blk-fault-ioerr');
    expect(r.out).toMatch(/^verdict: IDENTICAL/m);
    expect(r.code).toBe(0);
  });

  it('fails a request the device never completes after ioTimeoutMs; every other one completes and verifies', () => {
    const p = copyScenario('virtio-blk-msix', (s) => {
      s.machine.devices[0]!.props.faultHangRequest = 150;
      s.drivers['virtio-blkd']!.ioTimeoutMs = 5;
      s.workload.ops = 400;
      s.expect = { minIos: 399, ioErrors: 1, dataErrors: 0, crashes: 0 };
    });
    const out = runScenario(p);
    expect(out.result.failures).toEqual([]);
    const w = blockIoResultOf(out.result.workload)!;
    expect(w.ioErrors).toBe(1);
    expect(w.dataErrors).toBe(0);
    const logs = driverLogs(out);
    const timedOut = logs.find((l) => / timed out after 5 ms; failing it with EIO$/.test(l.text))!;
    expect(timedOut.level).toBe('error');
    expect(logs.some((l) => /request\(s\) timed out; the device's status is ACKNOWLEDGE\|DRIVER\|FEATURES_OK\|DRIVER_OK \(no reset needed\)$/.test(l.text))).toBe(true);
  });

  it('on DEVICE_NEEDS_RESET fails what is in flight with EIO, resets and re-initialises the device, and I/O goes on', () => {
    const p = copyScenario('virtio-blk-msix', (s) => {
      s.expect = { minIos: 1100, ioErrors: 100, dataErrors: 0, crashes: 0 };
    });
    const out = runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('breaker', function* (sys: Sys) {
        yield* sys.sleep(5e9); // 5 ms: the clients are busy
        (m.devices[0]!.model as VirtioBlk).t.needsReset('virtq.avail.idx', 'injected by the test');
        return 0;
      }),
    });
    expect(out.result.crashes).toEqual([]);
    const w = blockIoResultOf(out.result.workload)!;
    expect(w.dataErrors).toBe(0);
    expect(w.reads + w.writes + w.ioErrors).toBe(1200);
    expect(w.reads + w.writes).toBeGreaterThan(1100);
    const logs = driverLogs(out).map((l) => l.text);
    const failed = logs.find((l) => l.startsWith('device needs reset (device_status ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK|DEVICE_NEEDS_RESET): failed '))!;
    expect(failed).toBeDefined();
    expect(Number(/failed (\d+) request/.exec(failed)![1])).toBe(w.ioErrors);
    expect(w.ioErrors).toBeGreaterThan(0);
    expect(logs).toContain('device re-initialised after reset');
    expect(out.result.deviceStats.vblk0!.resets).toBe(2);
  });

  it('records byte-identical traces run after run', () => {
    const p = copyScenario('virtio-blk-msix', (s) => {
      s.machine.devices[0]!.props.latencyJitterPct = 30;
      s.workload.ops = 400;
    });
    const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('answers the disk.virtio protocol: open "0", fsize, block-aligned I/O split at size_max x seg_max, counts and errnos, flush on close', () => {
    const p = join(dir, 'protocol.json');
    writeFileSync(p, JSON.stringify({
      name: 'virtio-blkd-protocol', seed: 1,
      machine: {
        cores: 2, ramMiB: 64,
        devices: [{ type: 'virtio-blk', id: 'vblk0', bdf: '00:05.0', props: { image: DISK, segMax: 4, sizeMax: 16384 } }],
      },
      drivers: { 'virtio-blkd': { irqMode: 'intx', indirectDesc: false } },
      limits: { simTime: '1s' },
    }));
    const seen: Record<string, number> = {};
    let readBack = new Uint8Array(0);
    const pattern = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const out = runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('client', function* (sys: Sys) {
        let fd = -1;
        for (let i = 0; i < 100 && fd < 0; i++) {
          fd = yield* sys.open('disk.virtio:0');
          if (fd < 0) yield* sys.sleep(1e9);
        }
        seen.open = fd >= 0 ? 0 : fd;
        seen.openMissing = yield* sys.open('disk.virtio:1');
        seen.openName = yield* sys.open('disk.virtio:zero');
        seen.openSigned = yield* sys.open('disk.virtio:+0');
        seen.fsize = yield* sys.fsize(fd);
        seen.unaligned = yield* sys.read(fd, new Uint8Array(512), 100);
        seen.partialBlock = yield* sys.read(fd, new Uint8Array(700), 0);
        seen.pastEnd = yield* sys.read(fd, new Uint8Array(512), 8 * 1024 * 1024);
        seen.lastBlocks = yield* sys.read(fd, new Uint8Array(4096), 8 * 1024 * 1024 - 1024);
        // 256 KiB: four requests of size_max 16 KiB x seg_max 4.
        seen.write = yield* sys.write(fd, pattern, 1024 * 1024);
        readBack = new Uint8Array(pattern.length);
        seen.read = yield* sys.read(fd, readBack, 1024 * 1024);
        seen.close = yield* sys.close(fd);
      }),
    });
    expect(out.result.crashes).toEqual([]);
    expect(seen).toEqual({
      open: 0, openMissing: -ENOENT, openName: -ENOENT, openSigned: -ENOENT, fsize: 8 * 1024 * 1024,
      unaligned: -EINVAL, partialBlock: -EINVAL, pastEnd: 0, lastBlocks: 1024,
      write: 256 * 1024, read: 256 * 1024, close: 0,
    });
    expect(Buffer.compare(Buffer.from(readBack), Buffer.from(pattern))).toBe(0);
    const stats = out.result.deviceStats.vblk0!;
    expect(stats.writes).toBe(4);
    expect(stats.reads).toBe(5);
    expect(stats.flushes).toBe(1);
    expect(stats.guestErrors).toBe(0);
    expect(driverLogs(out).map((l) => l.text)).toContain('capacity 16384 sectors (8 MiB), block size 512, size_max 16384, seg_max 4');
  });
});
