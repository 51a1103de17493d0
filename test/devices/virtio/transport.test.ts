/**
 * virtio PCI transport (virtio 1.2 4.1): identity, capability list and
 * layout, common configuration reset values and widths, the status
 * handshake and feature negotiation, reset to 0, MSI-X vectors, the ISR with
 * INTx, queue_reset, config_generation and the PCI_CFG access window.
 */
import { describe, expect, it } from 'vitest';
import { Harness, V, VEC_BASE } from './harness.js';

describe('PCI identity and capabilities', () => {
  it('is 1af4:1042 revision 1 with subsystem 1af4:0002 and an interrupt pin', () => {
    const h = new Harness();
    expect(h.cfg16(0x00)).toBe(0x1af4);
    expect(h.cfg16(0x02)).toBe(0x1042);
    expect(h.cfg8(0x08)).toBe(1);
    expect(h.cfg16(0x2c)).toBe(0x1af4);
    expect(h.cfg16(0x2e)).toBe(2);
    expect(h.cfg8(0x3d)).toBe(1);
    expect(h.cfg16(0x06) & 0x10).toBe(0x10); // capability list
  });

  it('lists PM, MSI-X and the five virtio capabilities, dword aligned below 0x100', () => {
    const h = new Harness();
    const caps = h.caps();
    expect(caps.map((c) => c.id)).toEqual([0x01, 0x11, 0x09, 0x09, 0x09, 0x09, 0x09]);
    const vendor = caps.filter((c) => c.id === 0x09);
    expect(vendor.map((c) => c.type)).toEqual([1, 2, 3, 4, 5]);
    for (const c of caps) {
      expect(c.at % 4).toBe(0);
      expect(c.at).toBeGreaterThanOrEqual(0x40);
    }
    for (const c of vendor) expect(c.at + c.len).toBeLessThanOrEqual(0x100);
    expect(vendor.map((c) => c.len)).toEqual([16, 20, 16, 16, 20]);
  });

  it('places common 0x0 (0x3c bytes), ISR 0x1000, device config 0x2000, notify 0x3000 in BAR4', () => {
    const h = new Harness();
    const by = (t: number) => h.virtioCap(t);
    expect([by(1).bar, by(1).offset, by(1).length]).toEqual([4, 0x0000, 0x3c]);
    expect([by(2).bar, by(2).offset]).toEqual([4, 0x3000]);
    expect(h.cfg32(by(2).at + 16)).toBe(4); // notify_off_multiplier
    expect([by(3).bar, by(3).offset, by(3).length]).toEqual([4, 0x1000, 1]);
    expect([by(4).bar, by(4).offset, by(4).length]).toEqual([4, 0x2000, 72]);
    // BAR4 is a 64-bit memory BAR; BAR1 holds the MSI-X table.
    expect(h.cfg32(0x20) & 0x7).toBe(0x4);
    const msix = h.caps().find((c) => c.id === 0x11)!;
    expect(h.cfg32(msix.at + 4) & 7).toBe(1);
    expect((h.cfg16(msix.at + 2) & 0x7ff) + 1).toBe(2); // numQueues + 1
  });
});

describe('common configuration', () => {
  it('has the reset values of 4.1.4.3', () => {
    const h = new Harness({ props: { queueSize: 128, numQueues: 2 } });
    expect(h.c8(V.STATUS)).toBe(0);
    expect(h.c16(V.NUM_QUEUES)).toBe(2);
    expect(h.c16(V.MSIX_CONFIG)).toBe(V.NO_VECTOR);
    expect(h.c16(V.Q_SELECT)).toBe(0);
    expect(h.c16(V.Q_SIZE)).toBe(128);
    expect(h.c16(V.Q_MSIX)).toBe(V.NO_VECTOR);
    expect(h.c16(V.Q_ENABLE)).toBe(0);
    expect(h.c32(V.Q_DESC)).toBe(0);
    h.w16(V.Q_SELECT, 1);
    expect(h.c16(V.Q_NOTIFY_OFF)).toBe(1);
    h.w16(V.Q_SELECT, 2); // no such queue
    expect(h.c16(V.Q_SIZE)).toBe(0);
    expect(h.codes()).toEqual([]);
  });

  it('offers VERSION_1, INDIRECT_DESC, EVENT_IDX, RING_RESET and the block features', () => {
    const h = new Harness();
    const f = h.deviceFeatures();
    for (const b of [V.F_VERSION_1, V.F_INDIRECT, V.F_EVENT_IDX, V.F_RING_RESET, V.BLK_F_SEG_MAX, V.BLK_F_SIZE_MAX, V.BLK_F_BLK_SIZE,
      V.BLK_F_FLUSH, V.BLK_F_DISCARD, V.BLK_F_WRITE_ZEROES]) {
      expect((f >> BigInt(b)) & 1n, `bit ${b}`).toBe(1n);
    }
    expect((f >> BigInt(V.BLK_F_RO)) & 1n).toBe(0n);
    expect((f >> BigInt(V.BLK_F_MQ)) & 1n).toBe(0n);
    h.w32(V.DFSEL, 7);
    expect(h.c32(V.DF)).toBe(0);
    const ro = new Harness({ props: { readOnly: true, numQueues: 4, indirectDesc: false } }).deviceFeatures();
    expect((ro >> BigInt(V.BLK_F_RO)) & 1n).toBe(1n);
    expect((ro >> BigInt(V.BLK_F_MQ)) & 1n).toBe(1n);
    expect((ro >> BigInt(V.F_INDIRECT)) & 1n).toBe(0n);
  });

  it('reads with the wrong width return the bytes and record a guest error; such writes are dropped', () => {
    const h = new Harness({ props: { queueSize: 128 } });
    expect(h.mmioRead(h.common + V.Q_SIZE, 1)).toBe(128);
    h.mmioWrite(h.common + V.Q_SIZE, 4, 64);
    expect(h.c16(V.Q_SIZE)).toBe(128);
    h.w32(V.NUM_QUEUES - 2, 0); // config_msix_vector + num_queues as one dword
    expect(h.codes()).toEqual(['virtio.common.width', 'virtio.common.width', 'virtio.common.width']);
    h.w16(V.NUM_QUEUES, 9);
    expect(h.c16(V.NUM_QUEUES)).toBe(1);
    expect(h.codes().at(-1)).toBe('virtio.common.read-only');
  });

  it('refuses queue sizes that are not powers of 2 or exceed the maximum, and ring writes while enabled', () => {
    const h = new Harness({ props: { queueSize: 64 } });
    h.w16(V.Q_SIZE, 48);
    h.w16(V.Q_SIZE, 128);
    expect(h.c16(V.Q_SIZE)).toBe(64);
    h.w16(V.Q_SIZE, 16);
    expect(h.c16(V.Q_SIZE)).toBe(16);
    h.init({ queueSize: 16 });
    h.w16(V.Q_SELECT, 0);
    h.w32(V.Q_DESC, 0x5000);
    h.w16(V.Q_ENABLE, 0);
    expect(h.codes()).toEqual(['virtio.queue.size', 'virtio.queue.size', 'virtio.queue.enabled', 'virtio.queue.enable-zero']);
    expect(h.c32(V.Q_DESC)).not.toBe(0x5000);
    expect(h.c16(V.Q_ENABLE)).toBe(1);
  });

  it('will not enable a queue with misaligned rings', () => {
    const h = new Harness();
    h.w64(V.Q_DESC, 0x20008);
    h.w64(V.Q_DRIVER, 0x30000);
    h.w64(V.Q_DEVICE, 0x40000);
    h.w16(V.Q_ENABLE, 1);
    expect(h.c16(V.Q_ENABLE)).toBe(0);
    expect(h.codes()).toEqual(['virtio.queue.enable-invalid']);
  });
});

describe('status handshake and feature negotiation', () => {
  it('accepts the 3.1.1 sequence and marks DRIVER_OK as ready', () => {
    const h = new Harness();
    h.init();
    expect(h.status()).toBe(V.ACK | V.DRIVER | V.FEATURES_OK | V.DRIVER_OK);
    expect(h.tracer.events.some((e) => e.kind === 'milestone' && e.name === 'ready')).toBe(true);
    expect(h.dev.t.has(V.F_VERSION_1)).toBe(true);
    expect(h.codes()).toEqual([]);
  });

  it('clears FEATURES_OK when VERSION_1 is not accepted, and refuses DRIVER_OK after that', () => {
    const h = new Harness();
    h.setStatus(V.ACK);
    h.setStatus(V.ACK | V.DRIVER);
    h.writeDriverFeatures(h.deviceFeatures() & ~(1n << 32n));
    h.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK);
    expect(h.status()).toBe(V.ACK | V.DRIVER);
    expect(h.codes()).toEqual(['virtio.features.refused']);
    expect(h.guestErrs()[0]!.message).toContain('VERSION_1');
    h.setStatus(V.ACK | V.DRIVER | V.DRIVER_OK);
    expect(h.status() & V.DRIVER_OK).toBe(0);
    expect(h.codes().at(-1)).toBe('virtio.status.order');
  });

  it('refuses features that were not offered', () => {
    const h = new Harness({ props: { discard: false } });
    h.setStatus(V.ACK | V.DRIVER);
    h.writeDriverFeatures((1n << 32n) | (1n << BigInt(V.BLK_F_DISCARD)));
    h.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK);
    expect(h.status() & V.FEATURES_OK).toBe(0);
    expect(h.guestErrs()[0]!.message).toContain('feature bit 13 accepted but not offered');
  });

  it('records driver_feature writes after FEATURES_OK, cleared status bits and reserved bits', () => {
    const h = new Harness();
    h.init();
    h.writeDriverFeatures(1n << 32n);
    h.setStatus(V.ACK | V.DRIVER);
    expect(h.status()).toBe(V.ACK | V.DRIVER | V.FEATURES_OK | V.DRIVER_OK);
    h.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK | V.DRIVER_OK | V.NEEDS_RESET);
    expect(h.status() & V.NEEDS_RESET).toBe(0);
    expect(h.codes()).toEqual(['virtio.features.late', 'virtio.features.late', 'virtio.status.cleared', 'virtio.status.reserved']);
  });

  it('writing 0 resets: status reads 0 at once, queues and vectors return to reset values', () => {
    const h = new Harness({ props: { queueSize: 64 } });
    h.init({ queueSize: 32, msix: true });
    h.w16(V.Q_SELECT, 0);
    expect(h.c16(V.Q_ENABLE)).toBe(1);
    expect(h.c16(V.Q_MSIX)).toBe(1);
    h.setStatus(0);
    expect(h.status()).toBe(0);
    expect(h.c16(V.Q_SIZE)).toBe(64);
    expect(h.c16(V.Q_ENABLE)).toBe(0);
    expect(h.c16(V.Q_MSIX)).toBe(V.NO_VECTOR);
    expect(h.c16(V.MSIX_CONFIG)).toBe(V.NO_VECTOR);
    expect(h.c32(V.Q_DESC)).toBe(0);
    h.w32(V.GFSEL, 1);
    expect(h.c32(V.GF)).toBe(0);
    expect(h.dev.t.has(V.F_VERSION_1)).toBe(false);
    // A reset device renegotiates from scratch.
    h.init({ queueSize: 16 });
    expect(h.status() & V.DRIVER_OK).toBe(V.DRIVER_OK);
  });
});

describe('function-level reset and unused space', () => {
  it('quiesce (FLR, a crashed driver) is a device reset; reads outside the structures are 0 and recorded', () => {
    const h = new Harness();
    h.init({ msix: true });
    h.dev.quiesce();
    expect(h.status()).toBe(0);
    h.w16(V.Q_SELECT, 0);
    expect(h.c16(V.Q_ENABLE)).toBe(0);
    expect(h.mmioRead(h.common + 0x3f00, 4)).toBe(0); // notify region reads 0
    const bar4 = h.common; // BAR4 + 0
    expect(h.mmioRead(bar4 + 0x40, 4)).toBe(0); // past the common configuration: no error (reads 0)
    h.mmioWrite(bar4 + 0x40, 4, 1);
    expect(h.codes()).toEqual(['virtio.common.read-only']);
  });
});

describe('interrupts', () => {
  it('MSI-X: a vector inside the table reads back, one outside reads NO_VECTOR', () => {
    const h = new Harness({ props: { numQueues: 2 } });
    h.w16(V.MSIX_CONFIG, 2);
    expect(h.c16(V.MSIX_CONFIG)).toBe(2);
    h.w16(V.MSIX_CONFIG, 3);
    expect(h.c16(V.MSIX_CONFIG)).toBe(V.NO_VECTOR);
    h.w16(V.Q_SELECT, 1);
    h.w16(V.Q_MSIX, 1);
    expect(h.c16(V.Q_MSIX)).toBe(1);
    h.w16(V.Q_MSIX, 0x800);
    expect(h.c16(V.Q_MSIX)).toBe(V.NO_VECTOR);
    h.w16(V.Q_MSIX, V.NO_VECTOR);
    expect(h.codes()).toEqual(['virtio.vector.invalid', 'virtio.vector.invalid']);
  });

  it('MSI-X: a completion sends the queue\'s vector; NO_VECTOR sends nothing', () => {
    const h = new Harness();
    h.init({ msix: true });
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(h.delivered).toEqual([VEC_BASE + 1]);
    expect(h.fn.intxAsserted).toBe(false);
    h.w16(V.Q_SELECT, 0);
    h.w16(V.Q_MSIX, V.NO_VECTOR);
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(h.delivered).toEqual([VEC_BASE + 1]);
  });

  it('INTx: a completion sets ISR bit 0 and asserts INTx; reading the ISR returns it, clears it and deasserts', () => {
    const h = new Harness();
    h.init();
    expect(h.readIsr()).toBe(0);
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(h.fn.intxAsserted).toBe(true);
    expect(h.cfg16(0x06) & 0x08).toBe(0x08); // Status.Interrupt Status
    expect(h.readIsr()).toBe(1);
    expect(h.fn.intxAsserted).toBe(false);
    expect(h.readIsr()).toBe(0);
    h.mmioWrite(h.isrAddr, 1, 1);
    expect(h.codes()).toEqual(['virtio.isr.write']);
  });

  it('a configuration change bumps config_generation and raises ISR bit 1 (INTx) or the config vector (MSI-X)', () => {
    const h = new Harness({ sectors: 4096 });
    h.init();
    const gen = h.c8(V.GENERATION);
    expect(h.devCfg32(0)).toBe(4096);
    h.dev.setCapacity(2048);
    expect(h.c8(V.GENERATION)).toBe((gen + 1) & 0xff);
    expect(h.devCfg32(0)).toBe(2048);
    expect(h.fn.intxAsserted).toBe(true);
    expect(h.readIsr()).toBe(2);
    const m = new Harness();
    m.init({ msix: true });
    m.dev.setCapacity(100);
    expect(m.delivered).toEqual([VEC_BASE + 0]);
  });
});

describe('queue_reset (VIRTIO_F_RING_RESET)', () => {
  it('resets one queue: it reads 1 until re-enabled, and in-flight requests are dropped', () => {
    const h = new Harness({ props: { readLatencyUs: 100 } });
    h.init({ queueSize: 16 });
    const r = h.blkRequest(V.T_IN, 0, { inLen: 512 });
    h.q().add(r.bufs);
    h.q().kick();
    h.queue.runUntil(h.queue.now + 10_000_000); // 10 us: popped, on the media
    h.w16(V.Q_SELECT, 0);
    h.w16(V.Q_RESET, 1);
    expect(h.c16(V.Q_RESET)).toBe(1);
    expect(h.c16(V.Q_ENABLE)).toBe(0);
    expect(h.c16(V.Q_SIZE)).toBe(256);
    h.settle();
    expect(h.q().usedIdx()).toBe(0);
    expect(r.status()).toBe(0xff);
    h.setupQueue(0, 16);
    expect(h.c16(V.Q_RESET)).toBe(0);
    const u = h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(u.len).toBe(513);
    expect(h.codes()).toEqual([]);
  });

  it('is ignored without RING_RESET negotiated', () => {
    const h = new Harness();
    h.init({ drop: [V.F_RING_RESET] });
    h.w16(V.Q_SELECT, 0);
    h.w16(V.Q_RESET, 1);
    expect(h.c16(V.Q_ENABLE)).toBe(1);
    expect(h.codes()).toEqual(['virtio.queue.reset-feature']);
  });
});

describe('notifications and the PCI_CFG window', () => {
  it('ignores and records notifies before DRIVER_OK and to a wrong address', () => {
    const h = new Harness();
    h.setStatus(V.ACK | V.DRIVER);
    h.mmioWrite(h.common + 0x3000, 2, 0);
    h.mmioWrite(h.common + 0x3002, 2, 0);
    h.mmioWrite(h.common + 0x3000, 4, 0);
    expect(h.codes()).toEqual(['virtio.notify.not-ready', 'virtio.notify.offset', 'virtio.notify.width', 'virtio.notify.not-ready']);
  });

  it('reads and writes BAR4 through pci_cfg_data', () => {
    const h = new Harness({ props: { queueSize: 128 } });
    const cap = h.virtioCap(5);
    h.fn.configWrite(cap.at + 4, 1, 4); // bar
    h.fn.configWrite(cap.at + 8, 4, V.Q_SIZE); // offset
    h.fn.configWrite(cap.at + 12, 4, 2); // length
    expect(h.fn.configRead(cap.at + 16, 2)).toBe(128);
    h.fn.configWrite(cap.at + 16, 2, 32);
    expect(h.c16(V.Q_SIZE)).toBe(32);
    // Reading the ISR through the window clears it, like a BAR read.
    h.fn.configWrite(cap.at + 8, 4, 0x1000);
    h.fn.configWrite(cap.at + 12, 4, 1);
    expect(h.fn.configRead(cap.at + 16, 1)).toBe(0);
    h.fn.configWrite(cap.at + 4, 1, 1); // not the structures BAR
    expect(h.fn.configRead(cap.at + 16, 4)).toBe(0);
    expect(h.codes()).toEqual(['virtio.pci-cfg.access']);
    // The config digest does not go through the window.
    expect(() => h.fn.configDigest()).not.toThrow();
    expect(h.codes()).toHaveLength(1);
  });
});
