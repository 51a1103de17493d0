import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceConfigError } from '../../../src/devices/device.js';
import { nvmeDecoder, nvmeFactory } from '../../../src/devices/nvme/index.js';
import { describeProps, PropError, validateProps } from '../../../src/sim/props.js';
import { Harness, tempDir } from './harness.js';

function configError(props: Record<string, unknown>): DeviceConfigError {
  try {
    new Harness({ props });
  } catch (e) {
    if (e instanceof DeviceConfigError) return e;
    throw e;
  }
  throw new Error('expected a DeviceConfigError');
}

describe('nvme factory and props', () => {
  it('exposes the PCI identity and a documented prop table', () => {
    expect(nvmeFactory.type).toBe('nvme');
    expect(nvmeFactory.pciIds).toEqual({ vendorId: 0x1b36, deviceId: 0x0010, classCode: 0x010802 });
    for (const spec of Object.values(nvmeFactory.props)) expect(spec.doc.length).toBeGreaterThan(10);
    expect(describeProps(nvmeFactory.props)).toMatch(/\| writeThrough \| boolean \| false \|/);
    expect(() => validateProps(nvmeFactory.props, {}, 'machine.devices[0].props')).toThrow(PropError);
    expect(() => validateProps(nvmeFactory.props, {}, 'machine.devices[0].props')).toThrow(/image: is required/);
  });

  it('a missing image names the prop and the path', () => {
    const e = configError({ image: 'no/such/disk.img' });
    expect(e.field).toBe('image');
    expect(e.message).toContain(path.join(tempDir(), 'no/such/disk.img'));
  });

  it('an image that is not a whole number of blocks is refused', () => {
    fs.writeFileSync(path.join(tempDir(), 'odd.img'), new Uint8Array(1000));
    const e = configError({ image: 'odd.img' });
    expect(e.field).toBe('image');
    expect(e.message).toMatch(/1000 bytes/);
  });

  it('lbaSize, readyDelayMs vs CAP.TO and identify strings are validated', () => {
    expect(configError({ lbaSize: 1024 }).field).toBe('lbaSize');
    const e = configError({ readyDelayMs: 1500, timeout500ms: 2 });
    expect(e.field).toBe('readyDelayMs');
    expect(e.message).toMatch(/CAP.TO/);
    expect(configError({ serial: 'x'.repeat(21) }).field).toBe('serial');
    expect(configError({ model: 'caf\u00e9' }).field).toBe('model');
    expect(configError({ firmware: '' }).field).toBe('firmware');
  });

  it('describes BAR0, MSI-X in BAR0, MSI, PM, PCIe and INTA#', () => {
    const h = new Harness({ props: { msixVectors: 9 } });
    const s = h.spec;
    expect(s.classCode).toBe(0x010802);
    expect(s.interruptPin).toBe(1);
    expect(s.bars).toHaveLength(1);
    expect(s.bars[0]).toMatchObject({ index: 0, kind: 'mem64', size: 0x4000 });
    expect(s.capabilities.msix).toEqual({ tableSize: 9, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 });
    expect(s.capabilities.msi).toEqual({ vectors: 32, is64: true, perVectorMask: true });
    expect(s.capabilities.pm).toBe(true);
    expect(s.capabilities.pcie).toBe(true);
  });
});

describe('nvme decoder', () => {
  const d = nvmeDecoder;

  it('names registers, register halves, doorbells, the MSI-X table and PBA', () => {
    expect(d.type).toBe('nvme');
    expect(d.regName(0, 0x00, 4)).toBe('CAP');
    expect(d.regName(0, 0x04, 4)).toBe('CAP.hi');
    expect(d.regName(0, 0x14, 4)).toBe('CC');
    expect(d.regName(0, 0x15, 1)).toBe('CC+1');
    expect(d.regName(0, 0x1c, 4)).toBe('CSTS');
    expect(d.regName(0, 0x2c, 4)).toBe('ASQ.hi');
    expect(d.regName(0, 0x38, 4)).toBe('CMBLOC');
    expect(d.regName(0, 0x1018, 4)).toBe('SQ3TDBL');
    expect(d.regName(0, 0x101c, 4)).toBe('CQ3HDBL');
    expect(d.regName(0, 0x1000, 4)).toBe('SQ0TDBL');
    expect(d.regName(0, 0x2018, 4)).toBe('MSIX[1].DATA');
    expect(d.regName(0, 0x201c, 4)).toBe('MSIX[1].CTRL');
    expect(d.regName(0, 0x3000, 4)).toBe('PBA[0]');
    expect(d.regName(0, 0x3004, 4)).toBe('PBA[0].hi');
    expect(d.regName(0, 0x200, 4)).toBeUndefined();
    expect(d.regName(1, 0x0, 4)).toBeUndefined();
  });

  it('breaks CC, CSTS, AQA, CAP and doorbell values into fields', () => {
    expect(d.regFields!(0, 0x14, (4 << 20) | (6 << 16) | (1 << 14) | 1, true)).toBe('EN=1 CSS=0 MPS=0 AMS=0 SHN=1 IOSQES=6 IOCQES=4');
    expect(d.regFields!(0, 0x1c, 0b1011, false)).toBe('RDY=1 CFS=1 SHST=2 NSSRO=0 PP=0');
    expect(d.regFields!(0, 0x24, (15 << 16) | 31, true)).toBe("ASQS=31 ACQS=15 (0's based)");
    expect(d.regFields!(0, 0x00, 0x140103ff, false)).toBe('MQES=1023 CQR=1 AMS=0 TO=20 (10000 ms)');
    expect(d.regFields!(0, 0x04, 0x00400030, false)).toMatch(/NSSRS=1 CSS=0x1 .*MPSMIN=0 MPSMAX=4/);
    expect(d.regFields!(0, 0x08, 0x00010400, false)).toBe('1.4.0');
    expect(d.regFields!(0, 0x1018, 5, true)).toBe('SQT=5');
    expect(d.regFields!(0, 0x101c, 7, true)).toBe('CQH=7');
  });

  it('decodes every DMA payload of a run: admin vs I/O opcodes, completions, PRP lists', () => {
    const h = new Harness();
    h.enable();
    h.createIoPair(1);
    const area = h.alloc(3 * 4096);
    const list = h.alloc(4096);
    h.write64(list, area + 4096);
    h.write64(list + 8, area + 8192);
    h.exec(1, h.rw(false, 5, 24, area, list));
    h.exec(1, h.rw(false, 5000, 1, area));
    h.exec(0, { opc: 0x06, cdw10: 1, prp1: area });
    const lines = new Map<string, string[]>();
    for (const e of h.events('dma')) {
      if (e.kind !== 'dma') continue;
      const text = d.decodeDma!(e.tag, e.data);
      if (e.tag === 'data') {
        expect(text).toBeUndefined();
        continue;
      }
      expect(text).toBeDefined();
      lines.set(e.tag, [...(lines.get(e.tag) ?? []), text!]);
    }
    const asqe = lines.get('nvme.asqe')!;
    expect(asqe[0]).toMatch(/^CREATE_IO_CQ cid=\d+ qid=1 size=64 pc=1 ien=1 iv=1 base=0x/);
    expect(asqe[1]).toMatch(/^CREATE_IO_SQ cid=\d+ qid=1 size=64 pc=1 qprio=0 cqid=1/);
    expect(asqe[2]).toMatch(/^IDENTIFY cid=\d+ cns=1 cntid=0 prp1=0x/);
    expect(lines.get('nvme.sqe')![0]).toMatch(/^READ cid=\d+ nsid=1 slba=5 nlb=24 prp1=0x[0-9a-f]+ prp2=0x[0-9a-f]+$/);
    expect(lines.get('nvme.cqe')![0]).toMatch(/^cid=\d+ sqid=1 sqhd=1 p=1 SUCCESS$/);
    expect(lines.get('nvme.cqe')![1]).toMatch(/^cid=\d+ sqid=1 sqhd=2 p=1 LBA_OUT_OF_RANGE DNR$/);
    expect(lines.get('nvme.acqe')![0]).toMatch(/^cid=\d+ sqid=0 sqhd=1 p=1 SUCCESS$/);
    expect(lines.get('nvme.prp')![0]).toBe(`PRP list [2]: 0x${(area + 4096).toString(16)} 0x${(area + 8192).toString(16)}`);
  });

  it('names command-specific statuses and the same opcode differently on admin and I/O queues', () => {
    const cqe = new Uint8Array(16);
    const v = new DataView(cqe.buffer);
    v.setUint32(8, (3 << 16) | 9, true);
    v.setUint32(12, (7 | (1 << 16) | ((0x4000 | 0x10c) << 17)) >>> 0, true);
    expect(d.decodeDma!('nvme.acqe', cqe)).toBe('cid=7 sqid=3 sqhd=9 p=1 COMMAND_SPECIFIC/INVALID_QUEUE_DELETION DNR');
    const sqe = new Uint8Array(64);
    sqe[0] = 0x01;
    expect(d.decodeDma!('nvme.asqe', sqe)).toMatch(/^CREATE_IO_SQ/);
    expect(d.decodeDma!('nvme.sqe', sqe)).toMatch(/^WRITE/);
    sqe[0] = 0x00;
    expect(d.decodeDma!('nvme.asqe', sqe)).toMatch(/^DELETE_IO_SQ/);
    expect(d.decodeDma!('nvme.sqe', sqe)).toMatch(/^FLUSH/);
  });
});

describe('nvme determinism', () => {
  it('the same scenario gives an identical trace', () => {
    const run = (): string => {
      const h = new Harness({ seed: 7, props: { latencyJitterPct: 30 } });
      h.enable();
      h.createIoPair(1);
      h.createIoPair(2);
      const buf = h.alloc(16 * 4096);
      for (let i = 0; i < 16; i++) h.submit(1 + (i % 2), h.rw(i % 3 === 0, i * 8, 8, buf + i * 4096));
      h.ring(1);
      h.ring(2);
      h.settle();
      h.reap(1);
      h.reap(2);
      return JSON.stringify(h.tracer.events, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    };
    expect(run()).toBe(run());
  });
});
