/**
 * Names NVMe registers and decodes NVMe DMA payloads for inspect, replay
 * reports and diffs. Tags: "nvme.asqe"/"nvme.sqe" (admin / I/O submission
 * entries), "nvme.acqe"/"nvme.cqe" (admin / I/O completion entries),
 * "nvme.prp" (PRP list entries). Decoding allocates; it is never on the
 * simulation's hot path.
 */
import type { DeviceDecoder } from '../../trace/decoder.js';
import { NvmeTimingPhases } from './timing.js';
import {
  BAR0_SIZE, CC_SHN_SHIFT, DOORBELL_BASE, MSIX_PBA_OFFSET, MSIX_TABLE_OFFSET, NSSR_MAGIC, REG_ACQ, REG_ACQ_HI,
  REG_AQA, REG_ASQ, REG_ASQ_HI, REG_CAP, REG_CAP_HI, REG_CC, REG_CSTS, REG_INTMC, REG_INTMS, REG_NSSR, REG_VS,
  doorbellName, registerName,
} from './regs.js';
import { NvmeBehaviour, isVolatileNvmeRegister } from './behaviour.js';
import { AdminOp, DNR, FEATURE_NAMES, IoOp, MORE, opcodeName, statusName } from './status.js';

const MSIX_FIELDS = ['ADDR_LO', 'ADDR_HI', 'DATA', 'CTRL'];

function regName(bar: number, offset: number, _size: number): string | undefined {
  if (bar !== 0 || offset < 0 || offset >= BAR0_SIZE) return undefined;
  if (offset < DOORBELL_BASE) return registerName(offset);
  if (offset < MSIX_TABLE_OFFSET) return doorbellName(offset);
  const byte = offset & 3;
  const suffix = byte === 0 ? '' : `+${byte}`;
  if (offset < MSIX_PBA_OFFSET) {
    const rel = offset - MSIX_TABLE_OFFSET;
    return `MSIX[${rel >> 4}].${MSIX_FIELDS[(rel >> 2) & 3]}${suffix}`;
  }
  const rel = offset - MSIX_PBA_OFFSET;
  return `PBA[${rel >> 3}]${(rel & 4) !== 0 ? '.hi' : ''}${suffix}`;
}

const bits = (v: number, lo: number, n: number): number => Math.floor(v / 2 ** lo) % 2 ** n;

function regFields(bar: number, offset: number, value: number, _write: boolean): string | undefined {
  if (bar !== 0) return undefined;
  const v = value >>> 0;
  if (offset >= DOORBELL_BASE && offset < MSIX_TABLE_OFFSET && (offset & 3) === 0) {
    return ((offset - DOORBELL_BASE) & 4) === 0 ? `SQT=${v & 0xffff}` : `CQH=${v & 0xffff}`;
  }
  if (offset >= MSIX_TABLE_OFFSET && offset < MSIX_PBA_OFFSET && (offset & 0xf) === 0xc) {
    return `MASK=${v & 1}`;
  }
  switch (offset) {
    case REG_CAP:
      return `MQES=${v & 0xffff} CQR=${bits(v, 16, 1)} AMS=${bits(v, 17, 2)} TO=${bits(v, 24, 8)} (${bits(v, 24, 8) * 500} ms)`;
    case REG_CAP_HI:
      return `DSTRD=${v & 0xf} NSSRS=${bits(v, 4, 1)} CSS=0x${bits(v, 5, 8).toString(16)} BPS=${bits(v, 13, 1)} `
        + `MPSMIN=${bits(v, 16, 4)} MPSMAX=${bits(v, 20, 4)} PMRS=${bits(v, 24, 1)} CMBS=${bits(v, 25, 1)}`;
    case REG_VS:
      return `${v >>> 16}.${bits(v, 8, 8)}.${v & 0xff}`;
    case REG_INTMS:
    case REG_INTMC:
      return `mask=0x${v.toString(16)}`;
    case REG_CC:
      return `EN=${v & 1} CSS=${bits(v, 4, 3)} MPS=${bits(v, 7, 4)} AMS=${bits(v, 11, 3)} SHN=${bits(v, CC_SHN_SHIFT, 2)} `
        + `IOSQES=${bits(v, 16, 4)} IOCQES=${bits(v, 20, 4)}`;
    case REG_CSTS:
      return `RDY=${v & 1} CFS=${bits(v, 1, 1)} SHST=${bits(v, 2, 2)} NSSRO=${bits(v, 4, 1)} PP=${bits(v, 5, 1)}`;
    case REG_NSSR:
      return v === NSSR_MAGIC ? 'NSSRC="NVMe" (subsystem reset)' : `NSSRC=0x${v.toString(16)}`;
    case REG_AQA:
      return `ASQS=${v & 0xfff} ACQS=${bits(v, 16, 12)} (0's based)`;
    case REG_ASQ:
    case REG_ACQ:
    case REG_ASQ_HI:
    case REG_ACQ_HI:
      return `${(offset & 4) !== 0 ? 'base[63:32]' : 'base[31:12]'}=0x${v.toString(16)}`;
    default:
      return undefined;
  }
}

function hex64(view: DataView, off: number): string {
  const lo = view.getUint32(off, true);
  const hi = view.getUint32(off + 4, true);
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

function u64(view: DataView, off: number): number {
  return view.getUint32(off + 4, true) * 0x1_0000_0000 + view.getUint32(off, true);
}

/** "READ cid=3 nsid=1 slba=0 nlb=8 prp1=0x... prp2=0x0", "CREATE_IO_CQ cid=2 qid=1 size=64 ..." */
export function decodeSqe(admin: boolean, data: Uint8Array): string | undefined {
  if (data.length < 64) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const opc = data[0]!;
  const flags = data[1]!;
  const cid = v.getUint16(2, true);
  const nsid = v.getUint32(4, true);
  const dw = (i: number): number => v.getUint32(i * 4, true);
  const parts = [opcodeName(admin, opc), `cid=${cid}`];
  if (nsid !== 0) parts.push(`nsid=${nsid === 0xffffffff ? 'all' : nsid}`);
  if ((flags & 3) !== 0) parts.push(`fuse=${flags & 3}`);
  if ((flags >>> 6) !== 0) parts.push(`psdt=${flags >>> 6}`);
  const prps = (): void => {
    parts.push(`prp1=${hex64(v, 24)}`, `prp2=${hex64(v, 32)}`);
  };
  if (admin) {
    switch (opc) {
      case AdminOp.DELETE_IO_SQ:
      case AdminOp.DELETE_IO_CQ:
        parts.push(`qid=${dw(10) & 0xffff}`);
        break;
      case AdminOp.CREATE_IO_CQ:
        parts.push(`qid=${dw(10) & 0xffff}`, `size=${(dw(10) >>> 16) + 1}`, `pc=${dw(11) & 1}`,
          `ien=${(dw(11) >>> 1) & 1}`, `iv=${dw(11) >>> 16}`, `base=${hex64(v, 24)}`);
        break;
      case AdminOp.CREATE_IO_SQ:
        parts.push(`qid=${dw(10) & 0xffff}`, `size=${(dw(10) >>> 16) + 1}`, `pc=${dw(11) & 1}`,
          `qprio=${(dw(11) >>> 1) & 3}`, `cqid=${dw(11) >>> 16}`, `base=${hex64(v, 24)}`);
        break;
      case AdminOp.IDENTIFY:
        parts.push(`cns=${dw(10) & 0xff}`, `cntid=${dw(10) >>> 16}`);
        prps();
        break;
      case AdminOp.GET_LOG_PAGE: {
        const numd = (dw(11) & 0xffff) * 0x10000 + (dw(10) >>> 16) + 1;
        parts.push(`lid=0x${(dw(10) & 0xff).toString(16)}`, `bytes=${numd * 4}`, `rae=${(dw(10) >>> 15) & 1}`,
          `offset=${u64(v, 48)}`);
        prps();
        break;
      }
      case AdminOp.SET_FEATURES:
      case AdminOp.GET_FEATURES: {
        const fid = dw(10) & 0xff;
        parts.push(`fid=0x${fid.toString(16)}(${FEATURE_NAMES[fid] ?? '?'})`);
        if (opc === AdminOp.SET_FEATURES) parts.push(`sv=${dw(10) >>> 31}`);
        else parts.push(`sel=${(dw(10) >>> 8) & 7}`);
        parts.push(`dw11=0x${dw(11).toString(16)}`);
        break;
      }
      case AdminOp.ABORT:
        parts.push(`sqid=${dw(10) & 0xffff}`, `target_cid=${dw(10) >>> 16}`);
        break;
      case AdminOp.ASYNC_EVENT_REQUEST:
        break;
      default:
        parts.push(`cdw10=0x${dw(10).toString(16)}`, `cdw11=0x${dw(11).toString(16)}`);
        prps();
    }
  } else {
    switch (opc) {
      case IoOp.READ:
      case IoOp.WRITE:
        parts.push(`slba=${u64(v, 40)}`, `nlb=${(dw(12) & 0xffff) + 1}`);
        if ((dw(12) >>> 30) & 1) parts.push('fua');
        prps();
        break;
      case IoOp.FLUSH:
        break;
      default:
        parts.push(`cdw10=0x${dw(10).toString(16)}`, `cdw11=0x${dw(11).toString(16)}`, `cdw12=0x${dw(12).toString(16)}`);
        prps();
    }
  }
  return parts.join(' ');
}

/** "cid=3 sqid=1 sqhd=4 p=1 SUCCESS" (+ " dw0=0x..", " DNR", " M"). */
export function decodeCqe(data: Uint8Array): string | undefined {
  if (data.length < 16) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dw0 = v.getUint32(0, true);
  const dw2 = v.getUint32(8, true);
  const dw3 = v.getUint32(12, true);
  const status = dw3 >>> 17;
  let s = `cid=${dw3 & 0xffff} sqid=${dw2 >>> 16} sqhd=${dw2 & 0xffff} p=${(dw3 >>> 16) & 1} ${statusName(status & 0x7ff)}`;
  if (dw0 !== 0) s += ` dw0=0x${dw0.toString(16)}`;
  if ((status & MORE) !== 0) s += ' M';
  if ((status & DNR) !== 0) s += ' DNR';
  return s;
}

/** "PRP list [3]: 0x5000 0x6000 0x7000" (at most 16 entries shown). */
export function decodePrpList(data: Uint8Array): string {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length >>> 3;
  const shown: string[] = [];
  for (let i = 0; i < n && i < 16; i++) shown.push(hex64(v, i * 8));
  return `PRP list [${n}]: ${shown.join(' ')}${n > 16 ? ' ...' : ''}`;
}

export const nvmeDecoder: DeviceDecoder = {
  type: 'nvme',
  regName,
  regFields,
  decodeDma(tag: string, data: Uint8Array): string | undefined {
    switch (tag) {
      case 'nvme.asqe': return decodeSqe(true, data);
      case 'nvme.sqe': return decodeSqe(false, data);
      case 'nvme.acqe':
      case 'nvme.cqe': return decodeCqe(data);
      case 'nvme.prp': return decodePrpList(data);
      default: return undefined;
    }
  },
  // Admin Submission/Completion Queue Base Address (NVMe 1.4 3.1.9, 3.1.10).
  addressRegisters: ['ASQ', 'ACQ'],
  dmaAddressFields(tag: string, len: number): readonly number[] | undefined {
    switch (tag) {
      // PRP Entry 1 and 2 of a submission entry: DW6-7 and DW8-9 (NVMe 1.4 4.2).
      case 'nvme.asqe':
      case 'nvme.sqe': return len >= 40 ? SQE_PRP_FIELDS : undefined;
      // A PRP list is nothing but 64-bit entries (NVMe 1.4 4.3).
      case 'nvme.prp': return prpListFields(len);
      default: return undefined;
    }
  },
  timingPhases: () => new NvmeTimingPhases(),
  behaviour: () => new NvmeBehaviour(),
  isVolatileRegister: isVolatileNvmeRegister,
};

const SQE_PRP_FIELDS: readonly number[] = [24, 32];
const prpFieldCache: number[][] = [];
function prpListFields(len: number): readonly number[] {
  const n = len >>> 3;
  let f = prpFieldCache[n];
  if (f === undefined) {
    f = Array.from({ length: n }, (_, i) => i * 8);
    if (n <= 512) prpFieldCache[n] = f;
  }
  return f;
}
