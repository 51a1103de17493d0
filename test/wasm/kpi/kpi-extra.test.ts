/**
 * dmapool.h, firmware.h, skbuff.h and NAPI (netdevice.h) from C: the
 * kpi-selftest driver with `kpi_extra` (guest/c/selftest/extra.c).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import { DISK } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-kpi-extra-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fwDir = join(dir, 'firmware');
const image = new Uint8Array(1000).map((_, i) => (i * 7 + 0x11) & 0xff);

let n = 0;
function run(params: Record<string, unknown>) {
  const p = join(dir, `extra-${n++}.json`);
  writeFileSync(p, JSON.stringify({
    name: 'kpi-extra', seed: 1,
    machine: { cores: 1, ramMiB: 64, devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
    drivers: { 'kpi-selftest': { loops: 0, ...params } },
    limits: { simTime: '50ms' },
  }));
  const out = runScenario(p);
  return { out, logs: out.machine.kernel.logs.map((l) => l.text), levels: out.machine.kernel.logs };
}

describe('kpi-selftest kpi_extra (dmapool, firmware, skbuff, NAPI from C)', () => {
  it('runs every step and logs their results', () => {
    mkdirSync(fwDir, { recursive: true });
    writeFileSync(join(fwDir, 'kpi-extra-test.bin'), image);
    const { out, logs } = run({ kpi_extra: 1, firmwareDir: fwDir });
    expect(out.result.crashes).toEqual([]);
    expect(out.result.failures).toEqual([]);
    const text = logs.join('\n');
    expect(text).toContain('kpi extra done: 0');
    expect(text).toContain('selftest done');

    // DMA pool: 64-byte aligned blocks in the driver's memory region, at bus address = region base + pointer.
    const region = out.machine.mem.listRegions()[0]!;
    const blocks = [...text.matchAll(/pool block (\d) cpu 0x([0-9a-f]+) bus 0x([0-9a-f]+) aligned (\d)/g)];
    expect(blocks).toHaveLength(3);
    for (const b of blocks) {
      const cpu = parseInt(b[2]!, 16), bus = parseInt(b[3]!, 16);
      expect(b[4]).toBe('1');
      expect(bus).toBe(region.base + cpu);
      expect(bus + 48).toBeLessThanOrEqual(region.base + region.size);
    }
    expect(parseInt(blocks[1]![3]!, 16) - parseInt(blocks[0]![3]!, 16)).toBe(64);
    expect(text).toContain('pool reuse same block, zeroed 1');

    // Firmware: the image's size and bytes, copied into the module.
    const hex = (i: number) => image[i]!.toString(16).padStart(2, '0');
    expect(text).toContain(`firmware: 1000 bytes, first ${hex(0)} ${hex(1)} ${hex(2)} ${hex(3)}, last ${hex(999)}`);

    // skb arithmetic: 128-byte buffer, reserve 16, put 10, push 4.
    expect(text).toContain('skb after reserve/put/push: len 14 headroom 12 tailroom 102');
    expect(text).toContain('skb after pull 6: len 8 headroom 18 first 3');
    expect(text).toContain('skb after trim 3: len 3 tailroom 107, pull 4 refused');
    expect(text).toContain('skb queue: len 3, peek len 3, headroom 32');
    expect(text).toContain('skb queue drained in order 312, empty 1');

    // NAPI with weight 2 and 3 packets: a full-budget poll, then one that completes.
    expect(text).toContain('napi poll 1: budget 2, 2 packets, 1 queued');
    expect(text).toContain('napi poll 2: budget 2, 1 packets, 0 queued');
    expect(text).toContain('napi selftest0: schedule disabled 0, first 1, again 0; 2 polls, 0 left');
    expect(logs.filter((l) => /leak|error/i.test(l))).toEqual([]);
  });

  it('a missing firmware file is -ENOENT with the linux-kpi report; a double dma_pool_free is reported', () => {
    const { out, logs } = run({ kpi_extra: 2, firmwareDir: join(dir, 'nofw') });
    expect(out.result.crashes).toEqual([]);
    const text = logs.join('\n');
    expect(text).toContain('firmware: request_firmware failed -2');
    expect(text).toMatch(/Direct firmware load for kpi-extra-test.bin failed with error -2/);
    expect(text).toMatch(/dma_pool_free selftest: block 0x[0-9a-f]+ not allocated from this pool or already freed/);
    expect(text).toContain('kpi extra done: 0');
  });
});
