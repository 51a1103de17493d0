/**
 * ahcid, the AHCI SATA driver daemon in Rust (guest/rust/ahcid on the
 * redox-driver crate, committed as guest/modules/ahcid.wasm), on the AHCI
 * model: the ahci-* scenarios pass (NCQ with many tags in flight under MSI,
 * READ/WRITE DMA EXT on INTx), a media error fails only the reads of its
 * range and the port keeps working (NCQ and not), a command that never
 * completes resets the port after ioTimeoutMs, runs are deterministic, and
 * disk.ahci answers the disk.nvme protocol (a client process below).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import type { Sys } from '../../../src/kernel/sys.js';
import { EBADF, EINVAL, ENOENT } from '../../../src/kernel/errno.js';
import { openTrace } from '../../../src/trace/reader.js';
import { blockIoResultOf } from '../../../src/workloads/blockio.js';
import { DISK, ROOT } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-ahcid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenarioPath = (name: string) => join(ROOT, 'fixtures/scenarios', `${name}.json`);

type Scenario = Record<string, unknown> & {
  drivers: { ahcid: Record<string, unknown> };
  machine: { devices: { props: Record<string, unknown> }[] };
  expect: Record<string, unknown>;
};

/** fixtures/scenarios/<name>.json with changes, written to the temp folder (disk paths made absolute). */
function variant(name: string, change: (s: Scenario) => void): string {
  const s = JSON.parse(readFileSync(scenarioPath(name), 'utf8')) as Scenario;
  const props = s.machine.devices[0]!.props;
  props.disks = String(props.disks).split(',').map((d) => (d === '' ? '' : DISK)).join(',');
  change(s);
  const p = join(dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

const ahcidLogs = (out: ReturnType<typeof runScenario>) => out.machine.kernel.logs.filter((l) => l.proc === 'ahcid');

/** Port 0's PxSACT and PxCI registers in the ABAR (BAR5). */
const P0SACT = 0x100 + 0x34;
const P0CI = 0x100 + 0x38;

describe('ahcid on ahci-ncq (MSI, NCQ, two disks)', () => {
  const trace = join(dir, 'ahci-ncq.simtrace');
  const out = runScenario(scenarioPath('ahci-ncq'), { record: trace });

  it('passes: 2,000 reads and writes through disk.ahci:0, every read checked, no guest errors', () => {
    const r = out.result;
    expect(r.failures).toEqual([]);
    expect(r.crashes).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    const w = blockIoResultOf(r.workload)!;
    expect(w.reads + w.writes).toBe(2000);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBe(0);
    const logs = ahcidLogs(out).map((l) => l.text);
    expect(logs).toContain('interrupts: msi');
    expect(logs).toContain('port 0: SATA Gen3 link, "simrun SATA SSD" serial "SIMRUN-AHCI-0001" firmware "1.0"');
    expect(logs).toContain('port 1: SATA Gen3 link, "simrun SATA SSD" serial "SIMRUN-AHCI-0001-1" firmware "1.0"');
    expect(logs).toContain('port 0: 16384 sectors of 512 bytes (8 MiB), LBA48 yes, NCQ yes (queue depth 32)');
    expect(logs).toContain('port 0: disk.ahci:0, READ/WRITE FPDMA QUEUED (NCQ) with 32 slot(s)');
    expect(logs).toContain('port 2: no link (SSTS 0x0), COMRESET');
    expect(logs).toContain('port 3: no device');
    expect(logs).toContain('serving disk.ahci: (disk.ahci:0, disk.ahci:1)');
    const stats = r.deviceStats.ahci0!;
    expect(stats.ncqCommands).toBeGreaterThanOrEqual(2000);
    // Each client's close after writing flushed the cache.
    expect(stats.flushes).toBe(16);
    expect(stats.guestErrors).toBe(0);
  });

  it('keeps many NCQ tags in flight at once (PxSACT reads with 16 or more bits set)', () => {
    const evs = [...openTrace(readFileSync(trace)).events()];
    let peak = 0;
    let tags = 0;
    for (const e of evs) {
      if (e.kind !== 'mmio' || e.offset !== P0SACT || e.bar !== 5) continue;
      if (e.write) tags |= e.value;
      else {
        let n = 0;
        for (let v = e.value >>> 0; v !== 0; v &= v - 1) n++;
        peak = Math.max(peak, n);
      }
    }
    expect(peak).toBeGreaterThanOrEqual(16);
    let used = 0;
    for (let v = tags >>> 0; v !== 0; v &= v - 1) used++;
    expect(used).toBeGreaterThanOrEqual(peak);
    expect(evs.some((e) => e.kind === 'msi')).toBe(true);
    expect(evs.some((e) => e.kind === 'intx')).toBe(false);
  });
});

describe('ahcid on ahci-intx (INTx, READ/WRITE DMA EXT)', () => {
  const trace = join(dir, 'ahci-intx.simtrace');
  const out = runScenario(scenarioPath('ahci-intx'), { record: trace });

  it('passes: 1,200 reads and writes, every read checked, no NCQ', () => {
    const r = out.result;
    expect(r.failures).toEqual([]);
    expect(r.crashes).toEqual([]);
    const w = blockIoResultOf(r.workload)!;
    expect(w.reads + w.writes).toBe(1200);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBe(0);
    expect(r.deviceStats.ahci0!.ncqCommands).toBe(0);
    const logs = ahcidLogs(out).map((l) => l.text);
    expect(logs).toContain('interrupts: legacy (INTx)');
    expect(logs).toContain('port 0: disk.ahci:0, READ/WRITE DMA EXT with 32 slot(s)');
  });

  it('acknowledges the level-triggered line: it rises and falls, no message is sent', () => {
    const evs = [...openTrace(readFileSync(trace)).events()];
    expect(evs.filter((e) => e.kind === 'intx' && e.level === 1).length).toBeGreaterThan(100);
    expect(evs.filter((e) => e.kind === 'intx' && e.level === 0).length).toBeGreaterThan(100);
    expect(evs.some((e) => e.kind === 'msi')).toBe(false);
  });
});

/** The failed I/Os of a blockio run, from its problems: [block count, LBA, result]. */
function failedIos(problems: readonly string[]): [string, number, number, string][] {
  return problems.flatMap((p) => {
    const m = /(read|write) of (\d+) blocks at LBA (\d+) returned (\S+)/.exec(p);
    return m === null ? [] : [[m[1]!, Number(m[2]), Number(m[3]), m[4]!] as [string, number, number, string]];
  });
}

describe('ahcid media error recovery', () => {
  it.each([
    ['NCQ (READ LOG EXT 10h names the failed tag)', true],
    ['READ DMA EXT (PxCMD.CCS names the failed slot)', false],
  ] as const)('%s: the reads of the bad range fail with EIO, everything else completes and verifies', (_, ncq) => {
    const p = ncq ? scenarioPath('ahci-fault-media') : variant('ahci-fault-media', (s) => {
      s.drivers.ahcid.ncq = false;
      s.expect = { crashes: 0, dataErrors: 0 };
    });
    const out = runScenario(p, { recordToBuffer: true });
    const w = blockIoResultOf(out.result.workload)!;
    expect(out.result.crashes).toEqual([]);
    if (ncq) expect(out.result.failures).toEqual([]);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBeGreaterThanOrEqual(5);
    expect(w.reads + w.writes + w.ioErrors).toBe(1000);
    // Every failure is a read overlapping sectors 1000..1255, failing with EIO.
    const failed = failedIos(w.problems);
    expect(failed.length).toBe(Math.min(w.ioErrors, 20));
    for (const [op, n, lba, res] of failed) {
      expect(op).toBe('read');
      expect(res).toBe('EIO');
      expect(lba < 1256 && lba + n > 1000).toBe(true);
    }
    const logs = ahcidLogs(out);
    const errs = logs.filter((l) => /^port 0: error: IS 0x[0-9a-f]+ \(TFES\) TFD 0x4051 \(DRDY ERR UNC\)/.test(l.text));
    expect(errs.length).toBe(w.ioErrors);
    if (ncq) expect(logs.filter((l) => /^port 0: NCQ error log: tag \d+ status 0x51 error 0x40 \(DRDY ERR UNC\) LBA \d+$/.test(l.text)).length).toBe(w.ioErrors);
    else expect(logs.some((l) => l.text.startsWith('port 0: NCQ error log'))).toBe(false);
    // The port kept working: commands were issued (PxCI) and data moved after the last error.
    const lastErr = errs[errs.length - 1]!.time;
    const after = [...openTrace(out.trace!.buffer!).events()].filter((e) => e.time > lastErr);
    expect(after.filter((e) => e.kind === 'mmio' && e.write && e.bar === 5 && e.offset === P0CI).length).toBeGreaterThan(20);
    expect(out.result.deviceStats.ahci0!.guestErrors).toBe(0);
  });
});

describe('ahcid command timeout', () => {
  it.each([true, false])('ncq %s: a command the disk never completes resets the port after ioTimeoutMs; only its request fails', (ncq) => {
    const p = variant('ahci-intx', (s) => {
      s.machine.devices[0]!.props.faultHangCommand = 150;
      s.drivers.ahcid = { irqMode: 'msi', ncq, ioTimeoutMs: 500 };
      s.expect = { crashes: 0, dataErrors: 0, ioErrors: 1, minIos: 1199 };
    });
    const out = runScenario(p);
    expect(out.result.failures).toEqual([]);
    const w = blockIoResultOf(out.result.workload)!;
    expect(w.ioErrors).toBe(1);
    expect(w.reads + w.writes).toBe(1199);
    const logs = ahcidLogs(out);
    const timeout = logs.find((l) => /^port 0: command timeout \(slots 0x[0-9a-f]+\)/.test(l.text))!;
    expect(timeout.level).toBe('error');
    expect(timeout.time).toBeGreaterThanOrEqual(500e9);
    expect(logs.some((l) => l.text === 'port 0: COMRESET')).toBe(true);
    expect(out.result.deviceStats.ahci0!.linkUps).toBe(2);
  });
});

describe('ahcid', () => {
  it('records byte-identical traces run after run', () => {
    const p = variant('ahci-ncq', (s) => { s.machine.devices[0]!.props.latencyJitterPct = 20; });
    const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('answers the disk.ahci protocol: open by disk number, fsize, sector-aligned I/O split at maxTransferKiB, counts and errnos, flush on close', () => {
    const p = join(dir, 'protocol.json');
    writeFileSync(p, JSON.stringify({
      name: 'ahcid-protocol', seed: 1,
      machine: { cores: 2, ramMiB: 64, devices: [{ type: 'ahci', id: 'ahci0', bdf: '00:05.0', props: { disks: `${DISK},,${DISK}`, ports: 3 } }] },
      drivers: { ahcid: {} },
      limits: { simTime: '1s' },
    }));
    const seen: Record<string, number> = {};
    let readBack = new Uint8Array(0);
    const pattern = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const out = runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('client', function* (sys: Sys) {
        let fd = -1;
        for (let i = 0; i < 100 && fd < 0; i++) {
          fd = yield* sys.open('disk.ahci:0');
          if (fd < 0) yield* sys.sleep(1e9);
        }
        seen.open = fd >= 0 ? 0 : fd;
        // The disk on port 2 is disk.ahci:1 (port 1 is empty).
        const fd1 = yield* sys.open('disk.ahci:1');
        seen.openSecond = fd1 >= 0 ? 0 : fd1;
        seen.fsizeSecond = yield* sys.fsize(fd1);
        seen.closeSecond = yield* sys.close(fd1);
        seen.openMissing = yield* sys.open('disk.ahci:2');
        seen.openName = yield* sys.open('disk.ahci:one');
        seen.openSigned = yield* sys.open('disk.ahci:+0');
        seen.fsize = yield* sys.fsize(fd);
        seen.unaligned = yield* sys.read(fd, new Uint8Array(512), 100);
        seen.partialBlock = yield* sys.read(fd, new Uint8Array(700), 0);
        seen.pastEnd = yield* sys.read(fd, new Uint8Array(512), 8 * 1024 * 1024);
        seen.lastBlocks = yield* sys.read(fd, new Uint8Array(4096), 8 * 1024 * 1024 - 1024);
        // 256 KiB: two commands of maxTransferKiB (128 KiB).
        seen.write = yield* sys.write(fd, pattern, 1024 * 1024);
        readBack = new Uint8Array(pattern.length);
        seen.read = yield* sys.read(fd, readBack, 1024 * 1024);
        seen.close = yield* sys.close(fd);
        seen.closeAgain = yield* sys.close(fd);
      }),
    });
    expect(out.result.crashes).toEqual([]);
    expect(seen).toEqual({
      open: 0, openSecond: 0, fsizeSecond: 8 * 1024 * 1024, closeSecond: 0,
      openMissing: -ENOENT, openName: -ENOENT, openSigned: -ENOENT, fsize: 8 * 1024 * 1024,
      unaligned: -EINVAL, partialBlock: -EINVAL, pastEnd: 0, lastBlocks: 1024,
      write: 256 * 1024, read: 256 * 1024, close: 0, closeAgain: -EBADF,
    });
    expect(Buffer.compare(Buffer.from(readBack), Buffer.from(pattern))).toBe(0);
    const stats = out.result.deviceStats.ahci0!;
    expect(stats.writes).toBe(2);
    expect(stats.reads).toBe(3);
    // Only the handle that wrote flushed on close.
    expect(stats.flushes).toBe(1);
    expect(stats.guestErrors).toBe(0);
  });
});
