/**
 * nvmed, the NVMe driver daemon in Rust (guest/rust/nvmed on the
 * redox-driver crate, committed as guest/modules/nvmed.wasm), against copies
 * of the NVMe scenarios: every expectation holds with MSI-X and with INTx,
 * the device sees what it sees from the TypeScript driver (diff against the
 * golden traces is TIMING-ONLY), a
 * stalled command is aborted after ioTimeoutMs, runs are deterministic, and
 * the disk.nvme protocol answers as the TypeScript driver's does (a client
 * process below).
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
import { DISK, ROOT, simrunIn } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-nvmed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fixtures/scenarios/<name>.json with nvmed as its driver (`params`, or the nvme driver's own), written next to the original's image. */
function copyScenario(name: string, params?: Record<string, unknown>): string {
  const s = JSON.parse(readFileSync(join(ROOT, 'fixtures/scenarios', `${name}.json`), 'utf8')) as Record<string, unknown> & {
    drivers: Record<string, unknown>; machine: { devices: { props: { image: string } }[] };
  };
  s.drivers = { nvmed: params ?? s.drivers.nvme };
  s.machine.devices[0]!.props.image = DISK;
  const p = join(dir, `${name}-nvmed.json`);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

describe.each([
  ['msix', {}],
  ['intx', undefined],
] as const)('nvmed on nvme-%s', (mode, params) => {
  const scenario = copyScenario(`nvme-${mode}`, params);
  const trace = join(dir, `nvme-${mode}-nvmed.simtrace`);
  const out = runScenario(scenario, { record: trace });

  it('passes the scenario: 1,200 reads and writes through disk.nvme:1, every read checked, no guest errors', () => {
    const r = out.result;
    expect(r.failures).toEqual([]);
    expect(r.crashes).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    const w = blockIoResultOf(r.workload)!;
    expect(w.reads + w.writes).toBe(1200);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBe(0);
    const logs = out.machine.kernel.logs.filter((l) => l.proc === 'nvmed').map((l) => l.text);
    expect(logs).toContain(`interrupts: ${mode === 'intx' ? 'legacy, 1' : 'msix, 3'} vector(s)`);
    expect(logs).toContain('2 I/O queue pair(s) of 64 entries');
    expect(logs).toContain('serving disk.nvme: (disk.nvme:1)');
  });

  it('drives the device as the TypeScript driver does: diff is TIMING-ONLY (same process name, nvmed)', () => {
    const r = simrunIn(ROOT, 'diff', join(ROOT, `traces/nvme-${mode}.simtrace`), trace);
    expect(r.out).toMatch(/^verdict: TIMING-ONLY/);
    expect(r.code).toBe(0);
  });

  if (mode === 'msix') {
    it('waits on one MSI-X vector per queue, each in a thread of its own', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      expect(new Set(evs.flatMap((e) => e.kind === 'msi' ? [e.vector] : [])).size).toBe(3);
      expect(evs.some((e) => e.kind === 'intx')).toBe(false);
    });
  } else {
    it('acknowledges the legacy line: it rises and falls, no message is sent', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 1).length).toBeGreaterThan(100);
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 0).length).toBeGreaterThan(100);
      expect(evs.some((e) => e.kind === 'msi')).toBe(false);
    });
  }
});

describe('nvmed', () => {
  it('aborts a command the controller never starts: one request fails with EIO, every other one completes and verifies', () => {
    const out = runScenario(copyScenario('nvme-fault-io-timeout'));
    expect(out.result.failures).toEqual([]);
    const w = blockIoResultOf(out.result.workload)!;
    expect(w.ioErrors).toBe(1);
    expect(w.dataErrors).toBe(0);
    const logs = out.machine.kernel.logs.filter((l) => l.proc === 'nvmed');
    const aborting = logs.find((l) => /^I\/O \d+ QID \d timeout, aborting$/.test(l.text))!;
    expect(aborting.level).toBe('warn');
    expect(aborting.time).toBeGreaterThanOrEqual(500e9); // ioTimeoutMs 500
    expect(logs.some((l) => /failed: Command Abort Requested \(SCT 0 SC 0x07\)$/.test(l.text))).toBe(true);
  });

  it('records byte-identical traces run after run', () => {
    const p = copyScenario('nvme-jitter');
    const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('answers the disk.nvme protocol: open by nsid, fsize, block-aligned I/O split at MDTS, counts and errnos', () => {
    const p = join(dir, 'protocol.json');
    writeFileSync(p, JSON.stringify({
      name: 'nvmed-protocol', seed: 1,
      machine: { cores: 2, ramMiB: 64, devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { nvmed: {} },
      limits: { simTime: '1s' },
    }));
    const seen: Record<string, number> = {};
    let readBack = new Uint8Array(0);
    const pattern = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const out = runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('client', function* (sys: Sys) {
        let fd = -1;
        for (let i = 0; i < 100 && fd < 0; i++) {
          fd = yield* sys.open('disk.nvme:1');
          if (fd < 0) yield* sys.sleep(1e9);
        }
        seen.open = fd >= 0 ? 0 : fd;
        seen.openMissing = yield* sys.open('disk.nvme:9');
        seen.openName = yield* sys.open('disk.nvme:one');
        seen.openSigned = yield* sys.open('disk.nvme:+1');
        seen.fsize = yield* sys.fsize(fd);
        seen.unaligned = yield* sys.read(fd, new Uint8Array(512), 100);
        seen.partialBlock = yield* sys.read(fd, new Uint8Array(700), 0);
        seen.pastEnd = yield* sys.read(fd, new Uint8Array(512), 8 * 1024 * 1024);
        seen.lastBlocks = yield* sys.read(fd, new Uint8Array(4096), 8 * 1024 * 1024 - 1024);
        // 256 KiB: two commands of MDTS (128 KiB), each with a PRP list.
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
    // Each 256 KiB transfer took two commands of 128 KiB.
    expect(out.result.deviceStats.nvme0!.writes).toBe(2);
    expect(out.result.deviceStats.nvme0!.reads).toBe(3);
  });
});
