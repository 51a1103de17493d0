/**
 * Namespace count and inactive namespaces (props `namespaces`, `activeNsid`):
 * Identify Controller NN, Identify Namespace of an inactive NSID (zeroes),
 * the Active Namespace ID list, NS descriptors, I/O and Features with
 * active, inactive, invalid and broadcast NSIDs (NVMe 1.4 5.15.2, 6.1.5).
 */
import { describe, expect, it } from 'vitest';
import { Harness, S, expectedBlocks } from './harness.js';
import { DeviceConfigError } from '../../../src/devices/device.js';
import { namespaceGuid } from '../../../src/devices/nvme/identify.js';

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

const IDENTIFY = 0x06;
const SET_FEATURES = 0x09;
const GET_FEATURES = 0x0a;
const FLUSH = 0x00;

function ready(props: Record<string, unknown>): { h: Harness; buf: number } {
  const h = new Harness({ props });
  h.enable();
  h.createIoPair(1);
  return { h, buf: h.alloc(8192) };
}

describe('nvme namespaces: props', () => {
  it('default is one namespace, NSID 1 active (NN = 1)', () => {
    const { h, buf } = ready({});
    expect(h.exec(0, { opc: IDENTIFY, cdw10: 1, prp1: buf }).status).toBe(S.SUCCESS);
    expect(u32(h.readMem(buf, 4096), 516)).toBe(1);
    expect(h.dev.nn).toBe(1);
    expect(h.dev.activeNsid).toBe(1);
  });

  it('activeNsid above namespaces is a config error naming the field', () => {
    expect(() => new Harness({ props: { namespaces: 2, activeNsid: 3 } })).toThrow(DeviceConfigError);
    expect(() => new Harness({ props: { namespaces: 2, activeNsid: 3 } })).toThrow(/activeNsid/);
    expect(() => new Harness({ props: { namespaces: 0 } })).toThrow(/namespaces/);
  });
});

describe('nvme namespaces: Identify with NN = 4, NSID 1 active', () => {
  it('Identify Controller NN reports the count', () => {
    const { h, buf } = ready({ namespaces: 4 });
    expect(h.exec(0, { opc: IDENTIFY, cdw10: 1, prp1: buf }).status).toBe(S.SUCCESS);
    expect(u32(h.readMem(buf, 4096), 516)).toBe(4);
  });

  it('Identify Namespace of an inactive NSID returns a zero-filled structure with success', () => {
    const { h, buf } = ready({ namespaces: 4 });
    for (const nsid of [2, 3, 4]) {
      h.mem.ram.fill(0xee, buf, buf + 4096);
      const r = h.exec(0, { opc: IDENTIFY, nsid, cdw10: 0, prp1: buf });
      expect(r.status).toBe(S.SUCCESS);
      expect(h.readMem(buf, 4096).every((b) => b === 0)).toBe(true);
    }
    // The active one is the real structure.
    expect(h.exec(0, { opc: IDENTIFY, nsid: 1, cdw10: 0, prp1: buf }).status).toBe(S.SUCCESS);
    expect(u32(h.readMem(buf, 4096), 0)).toBe(h.blocks);
    expect(h.guestErrs().length).toBe(0);
  });

  it('Identify Namespace of NSID 0, above NN or FFFFFFFFh is Invalid Namespace or Format (DNR)', () => {
    const { h, buf } = ready({ namespaces: 4 });
    for (const nsid of [0, 5, 0xfffffffe, 0xffffffff]) {
      const r = h.exec(0, { opc: IDENTIFY, nsid, cdw10: 0, prp1: buf });
      expect(r.status).toBe(S.INVALID_NAMESPACE);
      expect(r.dnr).toBe(true);
    }
    expect(h.guestErrs('nvme.cmd.invalid-namespace').length).toBe(4);
    expect(h.guestErrs('nvme.cmd.invalid-namespace')[1]!.message).toMatch(/NSID 0x5: NN is 4, NSID 1 is the only active namespace/);
  });

  it('NS descriptor list: inactive NSID is Invalid Field, above NN Invalid Namespace, active lists the NGUID', () => {
    const { h, buf } = ready({ namespaces: 4 });
    const inactive = h.exec(0, { opc: IDENTIFY, nsid: 3, cdw10: 3, prp1: buf });
    expect(inactive.status).toBe(S.INVALID_FIELD);
    expect(inactive.dnr).toBe(true);
    expect(h.guestErrs('nvme.cmd.invalid-field')[0]!.message).toMatch(/Identify CNS 3 with NSID 0x3: the namespace is inactive/);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 5, cdw10: 3, prp1: buf }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 0xffffffff, cdw10: 3, prp1: buf }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 1, cdw10: 3, prp1: buf }).status).toBe(S.SUCCESS);
    const d = h.readMem(buf, 20);
    expect([d[0], d[1]]).toEqual([2, 16]);
    expect([...d.subarray(4, 20)]).toEqual([...namespaceGuid('SIMRUN0000000001', 1)]);
  });

  it('Active Namespace ID list lists only the active NSID', () => {
    const { h, buf } = ready({ namespaces: 4, activeNsid: 3 });
    const list = (after: number): number[] => {
      h.mem.ram.fill(0xee, buf, buf + 4096);
      expect(h.exec(0, { opc: IDENTIFY, nsid: after, cdw10: 2, prp1: buf }).status).toBe(S.SUCCESS);
      const d = h.readMem(buf, 4096);
      const out: number[] = [];
      for (let i = 0; i < 1024; i++) if (u32(d, i * 4) !== 0) out.push(u32(d, i * 4));
      expect(d.subarray(out.length * 4).every((b) => b === 0)).toBe(true);
      return out;
    };
    expect(list(0)).toEqual([3]);
    expect(list(2)).toEqual([3]);
    expect(list(3)).toEqual([]);
    expect(list(100)).toEqual([]);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 0xfffffffe, cdw10: 2, prp1: buf }).status).toBe(S.INVALID_NAMESPACE);
  });

  it('activeNsid 3: NSID 1 is inactive (zeroes), NSID 3 has the structure and its own NGUID', () => {
    const { h, buf } = ready({ namespaces: 4, activeNsid: 3 });
    h.mem.ram.fill(0xee, buf, buf + 4096);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 1, cdw10: 0, prp1: buf }).status).toBe(S.SUCCESS);
    expect(h.readMem(buf, 4096).every((b) => b === 0)).toBe(true);
    expect(h.exec(0, { opc: IDENTIFY, nsid: 3, cdw10: 0, prp1: buf }).status).toBe(S.SUCCESS);
    const d = h.readMem(buf, 4096);
    expect(u32(d, 0)).toBe(h.blocks);
    expect([...d.subarray(104, 120)]).toEqual([...namespaceGuid('SIMRUN0000000001', 3)]);
    expect([...namespaceGuid('SIMRUN0000000001', 3)]).not.toEqual([...namespaceGuid('SIMRUN0000000001', 1)]);
  });
});

describe('nvme namespaces: I/O commands (6.1.5)', () => {
  it('Read/Write to an inactive NSID: Invalid Field in Command (DNR), no data moved', () => {
    const { h, buf } = ready({ namespaces: 4 });
    h.mem.ram.fill(0xee, buf, buf + 512);
    for (const write of [false, true]) {
      const r = h.exec(1, { ...h.rw(write, 0, 1, buf), nsid: 2 });
      expect(r.status).toBe(S.INVALID_FIELD);
      expect(r.dnr).toBe(true);
    }
    expect(h.readMem(buf, 512).every((b) => b === 0xee)).toBe(true);
    expect(h.dmaEvents('data').length).toBe(0);
    expect(h.guestErrs('nvme.cmd.invalid-field')[0]!.message).toMatch(/NSID 2 is inactive \(NN is 4, NSID 1 is the only active namespace\)/);
  });

  it('Read/Write to NSID 0, above NN or FFFFFFFFh: Invalid Namespace or Format', () => {
    const { h, buf } = ready({ namespaces: 4 });
    for (const nsid of [0, 5, 0xffffffff]) {
      const r = h.exec(1, { ...h.rw(false, 0, 1, buf), nsid });
      expect(r.status).toBe(S.INVALID_NAMESPACE);
      expect(r.dnr).toBe(true);
    }
  });

  it('Read of the active NSID returns the image', () => {
    const { h, buf } = ready({ namespaces: 4, activeNsid: 2 });
    expect(h.exec(1, { ...h.rw(false, 5, 2, buf), nsid: 2 }).status).toBe(S.SUCCESS);
    expect(h.readMem(buf, 1024)).toEqual(expectedBlocks(5, 2, 512));
    expect(h.exec(1, { ...h.rw(false, 5, 2, buf), nsid: 1 }).status).toBe(S.INVALID_FIELD);
  });

  it('Flush: active and FFFFFFFFh succeed, inactive is Invalid Field, 0 and above NN Invalid Namespace', () => {
    const { h } = ready({ namespaces: 4 });
    expect(h.exec(1, { opc: FLUSH, nsid: 1 }).status).toBe(S.SUCCESS);
    expect(h.exec(1, { opc: FLUSH, nsid: 0xffffffff }).status).toBe(S.SUCCESS);
    expect(h.exec(1, { opc: FLUSH, nsid: 4 }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(1, { opc: FLUSH, nsid: 0 }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(1, { opc: FLUSH, nsid: 5 }).status).toBe(S.INVALID_NAMESPACE);
  });

  it('with one namespace, NSID 2 is above NN: Invalid Namespace (unchanged behaviour)', () => {
    const { h, buf } = ready({});
    expect(h.exec(1, { ...h.rw(false, 0, 1, buf), nsid: 2 }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(1, { opc: FLUSH, nsid: 2 }).status).toBe(S.INVALID_NAMESPACE);
  });
});

describe('nvme namespaces: Features', () => {
  it('Set Features: inactive NSID Invalid Field, above NN Invalid Namespace, active Error Recovery succeeds', () => {
    const { h } = ready({ namespaces: 4 });
    // Error Recovery (05h) is namespace specific.
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 1, cdw10: 0x05, cdw11: 0 }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 2, cdw10: 0x05, cdw11: 0 }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 9, cdw10: 0x05, cdw11: 0 }).status).toBe(S.INVALID_NAMESPACE);
    // Interrupt Coalescing (08h) is not: active NSID gives Not Namespace Specific, inactive still Invalid Field.
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 1, cdw10: 0x08, cdw11: 0 }).status).toBe(S.FEATURE_NOT_NS_SPECIFIC);
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 3, cdw10: 0x08, cdw11: 0 }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: SET_FEATURES, nsid: 0xffffffff, cdw10: 0x08, cdw11: 0 }).status).toBe(S.SUCCESS);
  });

  it('Get Features: inactive NSID Invalid Field, above NN Invalid Namespace, 0/active/FFFFFFFFh succeed', () => {
    const { h } = ready({ namespaces: 4 });
    expect(h.exec(0, { opc: GET_FEATURES, nsid: 0, cdw10: 0x05 }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: GET_FEATURES, nsid: 1, cdw10: 0x05 }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: GET_FEATURES, nsid: 0xffffffff, cdw10: 0x05 }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: GET_FEATURES, nsid: 2, cdw10: 0x05 }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: GET_FEATURES, nsid: 5, cdw10: 0x05 }).status).toBe(S.INVALID_NAMESPACE);
  });
});
