/**
 * virtio-blk (virtio 1.2 5.2): configuration, read/write round trip, flush,
 * GET_ID, discard and write zeroes, status codes for bad and unsupported
 * requests, read-only, multiqueue, request slots running out, latency and
 * jitter, the two faults with their stall diagnosis, the factory's prop
 * checks, the trace decoder, and determinism.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateProps } from '../../../src/sim/props.js';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { Rng } from '../../../src/sim/rng.js';
import { NULL_TRACER } from '../../../src/sim/tracer.js';
import { DeviceConfigError } from '../../../src/devices/device.js';
import { virtioBlkFactory, virtioBlkDecoder } from '../../../src/devices/virtio/blk/index.js';
import { expectedSectors, Harness, makeImage, tempDir, V } from './harness.js';

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 31 + (i >> 9)) & 0xff;
  return b;
}

describe('configuration', () => {
  it('lays out struct virtio_blk_config', () => {
    const h = new Harness({ sectors: 1024, props: { segMax: 32, sizeMax: 8192, blkSize: 4096, maxDiscardSeg: 4, maxWriteZeroesSectors: 999 } });
    expect(h.devCfg32(0)).toBe(1024);
    expect(h.devCfg32(4)).toBe(0);
    expect(h.devCfg32(8)).toBe(8192);
    expect(h.devCfg32(12)).toBe(32);
    expect(h.devCfg32(20)).toBe(4096);
    expect(h.mmioRead(h.deviceCfg + 34, 2)).toBe(1); // num_queues
    expect(h.devCfg32(36)).toBe(65536); // max_discard_sectors
    expect(h.devCfg32(40)).toBe(4); // max_discard_seg
    expect(h.devCfg32(44)).toBe(8); // discard_sector_alignment: blk_size in sectors
    expect(h.devCfg32(48)).toBe(999);
    expect(h.devCfg32(52)).toBe(8);
    expect(h.mmioRead(h.deviceCfg + 56, 1)).toBe(0); // write_zeroes_may_unmap
    expect(h.codes()).toEqual([]);
    h.mmioWrite(h.deviceCfg + 0, 4, 5);
    h.mmioRead(h.deviceCfg + 70, 4);
    expect(h.devCfg32(0)).toBe(1024);
    expect(h.codes()).toEqual(['virtio.device-cfg.access', 'virtio.device-cfg.access']);
  });
});

describe('requests', () => {
  it('OUT then IN round-trips data, split across descriptors; the image file is untouched', () => {
    const h = new Harness();
    h.init({ queueSize: 16 });
    const data = fill(4096, 1);
    const w = h.blkRequest(V.T_OUT, 100, { out: data, split: 1024 });
    expect(h.exec(w)).toMatchObject({ len: 1 });
    expect(w.status()).toBe(V.S_OK);
    const r = h.blkRequest(V.T_IN, 100, { inLen: 4096, split: 3 * 512 });
    expect(h.exec(r, 0, { indirect: true }).len).toBe(4097);
    expect(r.data()).toEqual(data);
    // Neighbours unchanged, and the file on disk still holds the original pattern.
    const n = h.blkRequest(V.T_IN, 108, { inLen: 512 });
    h.exec(n);
    expect(n.data()).toEqual(expectedSectors(108, 1));
    const file = fs.readFileSync(path.join(tempDir(), h.image));
    expect(new Uint8Array(file.subarray(100 * 512, 101 * 512))).toEqual(expectedSectors(100, 1));
    expect(h.dev.stats()).toMatchObject({ reads: 2, writes: 1, bytesRead: 4608, bytesWritten: 4096 });
  });

  it('takes the modelled read, write and flush latencies', () => {
    const h = new Harness({ props: { readLatencyUs: 80, writeLatencyUs: 30, flushLatencyUs: 500 } });
    h.init();
    const t0 = h.queue.now;
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    const t1 = h.queue.now;
    h.exec(h.blkRequest(V.T_OUT, 0, { out: fill(512, 2) }));
    const t2 = h.queue.now;
    const f = h.blkRequest(V.T_FLUSH, 0);
    h.exec(f);
    const t3 = h.queue.now;
    expect(f.status()).toBe(V.S_OK);
    // 200 ns notify delay + media latency.
    expect(t1 - t0).toBe(80_200_000);
    expect(t2 - t1).toBe(30_200_000);
    expect(t3 - t2).toBe(500_200_000);
  });

  it('GET_ID returns the serial, NUL padded to 20 bytes', () => {
    const h = new Harness({ props: { serial: 'ABC-123' } });
    h.init();
    const r = h.blkRequest(V.T_GET_ID, 0, { inLen: 20 });
    expect(h.exec(r).len).toBe(21);
    expect(r.status()).toBe(V.S_OK);
    const id = r.data();
    expect(new TextDecoder().decode(id.subarray(0, 7))).toBe('ABC-123');
    expect([...id.subarray(7)]).toEqual(new Array(13).fill(0));
  });

  it('WRITE_ZEROES zeroes its ranges; DISCARD completes and keeps the contents', () => {
    const h = new Harness();
    h.init();
    const seg = (sector: number, n: number, flags = 0): Uint8Array => {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      v.setUint32(0, sector, true);
      v.setUint32(8, n, true);
      v.setUint32(12, flags, true);
      return b;
    };
    const two = new Uint8Array(32);
    two.set(seg(20, 2), 0);
    two.set(seg(30, 1, 1), 16); // unmap allowed for write zeroes
    const wz = h.blkRequest(V.T_WRITE_ZEROES, 0, { out: two });
    h.exec(wz);
    expect(wz.status()).toBe(V.S_OK);
    for (const [s, zero] of [[19, false], [20, true], [21, true], [22, false], [30, true]] as const) {
      const r = h.blkRequest(V.T_IN, s, { inLen: 512 });
      h.exec(r);
      expect(r.data(), `sector ${s}`).toEqual(zero ? new Uint8Array(512) : expectedSectors(s, 1));
    }
    const d = h.blkRequest(V.T_DISCARD, 0, { out: seg(40, 4) });
    h.exec(d);
    expect(d.status()).toBe(V.S_OK);
    const dUnmap = h.blkRequest(V.T_DISCARD, 0, { out: seg(40, 4, 1) });
    h.exec(dUnmap);
    expect(dUnmap.status()).toBe(V.S_UNSUPP);
    const wzBad = h.blkRequest(V.T_WRITE_ZEROES, 0, { out: seg(40, 4, 2) });
    h.exec(wzBad);
    expect(wzBad.status()).toBe(V.S_UNSUPP);
    const past = h.blkRequest(V.T_WRITE_ZEROES, 0, { out: seg(2040, 16) });
    h.exec(past);
    expect(past.status()).toBe(V.S_IOERR);
    expect(h.codes()).toEqual(['virtio.blk.dwz-flags', 'virtio.blk.dwz-flags', 'virtio.blk.dwz']);
    expect(h.dev.stats()).toMatchObject({ discards: 1, writeZeroes: 2 });
  });

  it('an unknown type is UNSUPP; FLUSH/DISCARD without their features are UNSUPP', () => {
    const h = new Harness();
    h.init({ drop: [V.BLK_F_FLUSH, V.BLK_F_DISCARD] });
    const t = h.blkRequest(99, 0, { inLen: 0 });
    expect(h.exec(t).len).toBe(1);
    expect(t.status()).toBe(V.S_UNSUPP);
    const f = h.blkRequest(V.T_FLUSH, 0);
    h.exec(f);
    expect(f.status()).toBe(V.S_UNSUPP);
    const d = h.blkRequest(V.T_DISCARD, 0, { out: new Uint8Array(16) });
    h.exec(d);
    expect(d.status()).toBe(V.S_UNSUPP);
    expect(h.codes()).toEqual(['virtio.blk.unsupported', 'virtio.blk.unsupported', 'virtio.blk.unsupported']);
    expect(h.dev.stats()['unsupported']).toBe(3);
  });

  it('IOERR for sectors past capacity, partial sectors, a short header; no status byte -> used length 0', () => {
    const h = new Harness({ sectors: 64 });
    h.init();
    const past = h.blkRequest(V.T_IN, 63, { inLen: 1024 });
    expect(h.exec(past).len).toBe(1);
    expect(past.status()).toBe(V.S_IOERR);
    expect(past.data()).toEqual(new Uint8Array(1024).fill(0xee));
    const partial = h.blkRequest(V.T_OUT, 0, { out: new Uint8Array(100) });
    h.exec(partial);
    expect(partial.status()).toBe(V.S_IOERR);
    // A header of 8 bytes.
    const st = h.alloc(1, 1);
    const hdr = h.alloc(8, 8);
    const head = h.q().add([{ addr: hdr, len: 8, write: false }, { addr: st, len: 1, write: true }]);
    h.q().kick();
    h.settle();
    expect(h.q().reap()).toEqual([{ id: head, len: 1 }]);
    expect(h.mem.ram[st]).toBe(V.S_IOERR);
    // No writable byte at all.
    const r = h.blkRequest(V.T_IN, 0);
    const h2 = h.q().add([r.bufs[0]!]);
    h.q().kick();
    h.settle();
    expect(h.q().reap()).toEqual([{ id: h2, len: 0 }]);
    expect(h.codes()).toEqual(['virtio.blk.range', 'virtio.blk.data-len', 'virtio.blk.header', 'virtio.blk.no-status']);
    expect(h.status() & V.NEEDS_RESET).toBe(0);
  });

  it('read-only: OUT fails with IOERR and writes nothing', () => {
    const h = new Harness({ props: { readOnly: true } });
    h.init();
    const w = h.blkRequest(V.T_OUT, 5, { out: fill(512, 3) });
    h.exec(w);
    expect(w.status()).toBe(V.S_IOERR);
    expect(h.dev.disk.verify(5, expectedSectors(5, 1))).toBe(true);
    expect(h.codes()).toEqual(['virtio.blk.read-only']);
  });

  it('more segments than seg_max is IOERR; a segment over size_max is recorded but served', () => {
    const h = new Harness({ props: { segMax: 2, sizeMax: 1024 } });
    h.init();
    const many = h.blkRequest(V.T_IN, 0, { inLen: 1536, split: 512 });
    h.exec(many);
    expect(many.status()).toBe(V.S_IOERR);
    const big = h.blkRequest(V.T_IN, 0, { inLen: 2048 });
    h.exec(big);
    expect(big.status()).toBe(V.S_OK);
    expect(big.data()).toEqual(expectedSectors(0, 4));
    expect(h.codes()).toEqual(['virtio.blk.segments', 'virtio.blk.segment-size']);
  });
});

describe('queues and request slots', () => {
  it('MQ: every queue serves requests and interrupts on its own vector', () => {
    const h = new Harness({ props: { numQueues: 3 } });
    h.init({ queues: 3, msix: true });
    expect(h.dev.t.has(V.BLK_F_MQ)).toBe(true);
    for (const q of [2, 0, 1]) {
      const r = h.blkRequest(V.T_IN, q * 8, { inLen: 512 });
      h.exec(r, q);
      expect(r.data()).toEqual(expectedSectors(q * 8, 1));
    }
    expect(h.delivered).toEqual([0x40 + 3, 0x40 + 1, 0x40 + 2]);
  });

  it('with every slot busy the device stops popping and resumes when one completes', () => {
    const h = new Harness({ props: { maxInflight: 2, readLatencyUs: 10 } });
    h.init({ queueSize: 16 });
    const reqs = [0, 1, 2, 3, 4].map((s) => h.blkRequest(V.T_IN, s, { inLen: 512 }));
    for (const r of reqs) h.q().add(r.bufs);
    h.q().kick();
    h.queue.runUntil(h.queue.now + 5_000_000);
    expect(h.dev.t.queue(0).lastAvail).toBe(2);
    expect(h.dev.stall(h.queue.now)).toEqual([expect.stringMatching(/^queue 0: avail idx 5, device consumed 2, 2 requests in flight .*; 3 available, not consumed/)]);
    h.settle();
    expect(h.q().reap()).toHaveLength(5);
    reqs.forEach((r, i) => expect(r.data()).toEqual(expectedSectors(i, 1)));
    expect(h.dev.stall(h.queue.now)).toEqual([]);
  });
});

describe('faults', () => {
  it('faultIoErrorSector/Count: requests touching the range fail with IOERR, others succeed', () => {
    const h = new Harness({ props: { faultIoErrorSector: 100, faultIoErrorCount: 4 } });
    h.init();
    const bad = h.blkRequest(V.T_IN, 98, { inLen: 1536 });
    h.exec(bad);
    expect(bad.status()).toBe(V.S_IOERR);
    const badW = h.blkRequest(V.T_OUT, 103, { out: fill(512, 1) });
    h.exec(badW);
    expect(badW.status()).toBe(V.S_IOERR);
    expect(h.dev.disk.verify(103, expectedSectors(103, 1))).toBe(true);
    const ok = h.blkRequest(V.T_IN, 104, { inLen: 512 });
    h.exec(ok);
    expect(ok.status()).toBe(V.S_OK);
    expect(h.tracer.events.filter((e) => e.kind === 'milestone' && e.name === 'fault.ioerr')).toHaveLength(2);
    expect(h.codes()).toEqual([]);
  });

  it('faultHangRequest: the n-th request never completes; stall names it; a reset clears it', () => {
    const h = new Harness({ props: { faultHangRequest: 2 } });
    h.init();
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    const hung = h.blkRequest(V.T_IN, 1, { inLen: 512 });
    h.q().add(hung.bufs);
    h.q().kick();
    h.settle();
    h.queue.runUntil(h.queue.now + 3_000_000_000); // 3 ms more
    expect(h.q().reap()).toEqual([]);
    expect(hung.status()).toBe(0xff);
    const lines = h.dev.stall(h.queue.now);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^queue 0: avail idx 2, device consumed 2, 1 request in flight 3\.\d+ ms \(1 held by the faultHangRequest fault/);
    h.init();
    expect(h.dev.stall(h.queue.now)).toEqual([]);
    const after = h.blkRequest(V.T_IN, 1, { inLen: 512 });
    h.exec(after);
    expect(after.data()).toEqual(expectedSectors(1, 1));
  });

  it('stall reports an unfinished handshake', () => {
    const h = new Harness();
    h.setStatus(V.ACK | V.DRIVER);
    expect(h.dev.stall(0)).toEqual(['initialization not finished: device_status ACKNOWLEDGE|DRIVER, DRIVER_OK not set']);
  });
});

describe('determinism', () => {
  function run(seed: number): { hash: number; times: number[]; trace: string } {
    const h = new Harness({ seed, image: 'det.img', props: { latencyJitterPct: 50, numQueues: 2 } });
    h.init({ queues: 2, msix: true, queueSize: 32 });
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      const q = i % 2;
      const r = i % 3 === 0 ? h.blkRequest(V.T_OUT, i * 3, { out: fill(1024, i) }) : h.blkRequest(V.T_IN, i * 2, { inLen: 1024, split: 512 });
      h.q(q).add(r.bufs, { indirect: i % 4 === 1 });
      h.q(q).kick();
      if (i % 3 === 2) h.settle();
      times.push(h.queue.now);
    }
    h.settle();
    const trace = JSON.stringify(h.tracer.events.map((e) => (e.kind === 'dma' ? { ...e, data: [...e.data] } : e)));
    return { hash: h.dev.stateHash(), times, trace };
  }

  it('the same seed gives the same trace and state; another seed moves the jittered times', () => {
    fs.writeFileSync(path.join(tempDir(), 'det.img'), new Uint8Array(512 * 256));
    const a = run(7);
    const b = run(7);
    expect(b.trace).toBe(a.trace);
    expect(b.hash).toBe(a.hash);
    const c = run(8);
    expect(c.times).not.toEqual(a.times);
  });
});

describe('factory and decoder', () => {
  const ctx = () => ({
    id: 'vblk0', index: 0, queue: new EventQueue(), tracer: NULL_TRACER, rng: new Rng(1), baseDir: tempDir(),
    attachPci: () => { throw new Error('not reached'); },
  });

  it('names the bad prop', () => {
    const img = makeImage(8);
    const bad = (props: Record<string, unknown>, field: string): void => {
      const p = validateProps(virtioBlkFactory.props, { image: img, ...props }, 'x');
      expect(() => virtioBlkFactory.create(ctx(), p)).toThrow(DeviceConfigError);
      try {
        virtioBlkFactory.create(ctx(), p);
      } catch (e) {
        expect((e as DeviceConfigError).field).toBe(field);
      }
    };
    bad({ blkSize: 1024 }, 'blkSize');
    bad({ queueSize: 100 }, 'queueSize');
    bad({ serial: 'x'.repeat(21) }, 'serial');
    bad({ image: 'missing.img' }, 'image');
    const odd = makeImage(3);
    expect(() => virtioBlkFactory.create(ctx(), validateProps(virtioBlkFactory.props, { image: odd, blkSize: 4096 }, 'x')))
      .toThrow(/multiple of blkSize \(4096\)/);
    expect(virtioBlkFactory.pciIds).toEqual({ vendorId: 0x1af4, deviceId: 0x1042, classCode: 0x010000 });
  });

  it('decodes registers, rings and requests', () => {
    const d = virtioBlkDecoder;
    expect(d.type).toBe('virtio-blk');
    expect(d.regName(4, 0x14, 1)).toBe('device_status');
    expect(d.regName(4, 0x24, 4)).toBe('queue_desc_hi');
    expect(d.regName(4, 0x1000, 1)).toBe('isr_status');
    expect(d.regName(4, 0x2000, 4)).toBe('config.capacity');
    expect(d.regName(4, 0x200c, 4)).toBe('config.seg_max');
    expect(d.regName(4, 0x3008, 2)).toBe('notify.q2');
    expect(d.regName(1, 0x1c, 4)).toBe('MSIX[1].CTRL');
    expect(d.regFields?.(4, 0x14, 0x0f, true)).toBe('ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK');
    expect(d.regFields?.(4, 0x10, 0xffff, true)).toBe('NO_VECTOR');
    expect(d.regFields?.(4, 0x1000, 3, false)).toBe('QUEUE=1 CONFIG=1');
    const desc = new Uint8Array(16);
    const v = new DataView(desc.buffer);
    v.setUint32(0, 0x5000, true);
    v.setUint32(8, 512, true);
    v.setUint16(12, 3, true);
    v.setUint16(14, 2, true);
    expect(d.decodeDma?.('virtq.desc', desc)).toBe('addr=0x5000 len=512 flags=NEXT|WRITE next=2');
    expect(d.dmaAddressFields?.('virtq.indirect', 48)).toEqual([0, 16, 32]);
    const req = new Uint8Array(16);
    new DataView(req.buffer).setUint32(8, 42, true);
    expect(d.decodeDma?.('virtio-blk.req', req)).toBe('IN sector=42');
    expect(d.decodeDma?.('virtio-blk.status', new Uint8Array([2]))).toBe('UNSUPP');
    expect(d.decodeDma?.('virtq.used', new Uint8Array([3, 0, 0, 0, 1, 2, 0, 0]))).toBe('id=3 len=513');
    expect(d.isVolatileRegister?.('notify.q0')).toBe(true);
    expect(d.isVolatileRegister?.('device_status')).toBe(false);
  });
});
