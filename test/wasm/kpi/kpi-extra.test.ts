/**
 * dmapool.h, firmware.h, skbuff.h and NAPI (netdevice.h) from C: the
 * kpi-selftest driver with `kpi_extra` (guest/c/selftest/extra.c); net
 * devices with `kpi_netdev` (guest/c/selftest/netloop.c, a loopback served
 * as network.loop0:).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import type { Sys } from '../../../src/kernel/sys.js';
import { EAGAIN, EINVAL } from '../../../src/kernel/errno.js';
import { O_NONBLOCK } from '../../../src/kernel/types.js';
import { DISK } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-kpi-extra-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fwDir = join(dir, 'firmware');
const image = new Uint8Array(1000).map((_, i) => (i * 7 + 0x11) & 0xff);

let n = 0;
function run(params: Record<string, unknown>, onBuilt?: NonNullable<Parameters<typeof runScenario>[1]>['onBuilt']) {
  const p = join(dir, `extra-${n++}.json`);
  writeFileSync(p, JSON.stringify({
    name: 'kpi-extra', seed: 1,
    machine: { cores: 1, ramMiB: 64, devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
    drivers: { 'kpi-selftest': { loops: 0, ...params } },
    limits: { simTime: '50ms' },
  }));
  const out = runScenario(p, { onBuilt });
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

describe('kpi-selftest kpi_netdev (netdevice.h from C: a loopback served as network.loop0:)', () => {
  const MS = 1e9;
  const frame = (n: number, len = 64) => new Uint8Array(len).map((_, i) => (i < 12 ? 0x02 : i === 12 ? 0x08 : i === 13 ? 0 : i * 3 + n) & 0xff);

  it('sends through ndo_start_xmit, stops the queue on a full ring, wakes it from NAPI and receives every frame back whole', () => {
    const got: number[] = [];
    const times: number[] = [];
    const back: Uint8Array[] = [];
    const { out, logs } = run({ kpi_netdev: 1 }, (m) => m.kernel.spawn('client', function* (sys: Sys) {
      let fd = -1;
      for (let i = 0; i < 40 && fd < 0; i++) {
        fd = yield* sys.open('network.loop0:');
        if (fd < 0) yield* sys.sleep(MS);
      }
      const nb = yield* sys.open('network.loop0:', O_NONBLOCK);
      got.push(fd >= 0 ? 0 : fd, yield* sys.read(nb, new Uint8Array(64)), yield* sys.write(fd, new Uint8Array(8)));
      const t0 = sys.now;
      for (let i = 0; i < 4; i++) {
        got.push(yield* sys.write(fd, frame(i, 64 + i)));
        times.push((sys.now - t0) / MS);
        if (i === 1) got.push(yield* sys.write(nb, frame(9))); // the ring is full: the queue is stopped
      }
      for (let i = 0; i < 4; i++) {
        const b = new Uint8Array(256);
        const r = yield* sys.read(fd, b);
        back.push(b.slice(0, r));
      }
      got.push(yield* sys.close(nb), yield* sys.close(fd));
    }));
    expect(out.result.crashes).toEqual([]);
    expect(got).toEqual([0, -EAGAIN, -EINVAL, 64, 65, -EAGAIN, 66, 67, 0, 0]);
    // Two frames fill the ring; the third waits for the loop-back a jiffy (1 ms) later, the fourth for the next.
    expect(times[1]).toBeLessThan(0.5);
    expect(times[2]).toBeGreaterThanOrEqual(0.5);
    expect(times[3]).toBeGreaterThan(times[2]!);
    expect(back).toEqual([0, 1, 2, 3].map((i) => frame(i, 64 + i)));
    const text = logs.join('\n');
    expect(text).toContain('registered loop0');
    expect(text).toContain('loop0: serving network.loop0: (mac 02:00:5e:10:00:01, mtu 1500)');
    expect(text).toContain('loop0: up');
    // The driver's own counters (dev->stats, whole frames).
    expect(text).toContain(`loop0: down: tx 4 packets ${64 + 65 + 66 + 67} bytes, rx 4 packets ${64 + 65 + 66 + 67} bytes`);
    expect(logs.filter((l) => /BUG|leak|error/i.test(l))).toEqual([]);
  });
});
