/**
 * Names AHCI registers and decodes AHCI DMA payloads for inspect, replay
 * reports and diffs. Tags: "ahci.cmdhdr" (a 32-byte command header fetched,
 * or its 4-byte PRDBC written back), "ahci.cfis" (the command FIS),
 * "ahci.prdt" (PRD entries), "ahci.fis" (a FIS posted to the received FIS
 * area: D2H Register, PIO Setup, Set Device Bits), "data". Decoding
 * allocates; it is never on the simulation's hot path.
 */
import type { DeviceDecoder } from '../../trace/decoder.js';
import { FisType, ataCommandName } from './ata.js';
import {
  ABAR_INDEX, HBA_CAP, HBA_GHC, HBA_VS, MAX_PORTS, PORT_BASE, PORT_STRIDE, PX_CMD, PX_IS, PX_SCTL, PX_SERR, PX_SSTS,
  PX_TFD, PX_IE, registerName,
} from './regs.js';

const bits = (v: number, lo: number, n: number): number => Math.floor(v / 2 ** lo) % 2 ** n;
const u32 = (d: Uint8Array, o: number): number => (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
const hx = (v: number): string => `0x${(v >>> 0).toString(16)}`;

const IS_NAMES: readonly [number, string][] = [
  [0, 'DHRS'], [1, 'PSS'], [2, 'DSS'], [3, 'SDBS'], [4, 'UFS'], [5, 'DPS'], [6, 'PCS'], [7, 'DMPS'], [22, 'PRCS'],
  [23, 'IPMS'], [24, 'OFS'], [26, 'INFS'], [27, 'IFS'], [28, 'HBDS'], [29, 'HBFS'], [30, 'TFES'], [31, 'CPDS'],
];

function flagNames(v: number, names: readonly [number, string][]): string {
  const on = names.filter(([b]) => bits(v, b, 1) === 1).map(([, n]) => n);
  return on.length === 0 ? '-' : on.join('|');
}

function regName(bar: number, offset: number, _size: number): string | undefined {
  if (bar !== ABAR_INDEX) return undefined;
  return registerName(offset);
}

function regFields(bar: number, offset: number, value: number, _write: boolean): string | undefined {
  if (bar !== ABAR_INDEX) return undefined;
  const v = value >>> 0;
  if (offset < PORT_BASE) {
    switch (offset) {
      case HBA_CAP:
        return `NP=${(v & 0x1f) + 1} NCS=${bits(v, 8, 5) + 1} ISS=${bits(v, 20, 4)} SAM=${bits(v, 18, 1)} SCLO=${bits(v, 24, 1)} `
          + `SSS=${bits(v, 27, 1)} SNCQ=${bits(v, 30, 1)} S64A=${bits(v, 31, 1)}`;
      case HBA_GHC:
        return `HR=${v & 1} IE=${bits(v, 1, 1)} MRSM=${bits(v, 2, 1)} AE=${bits(v, 31, 1)}`;
      case HBA_VS:
        return `${v >>> 16}.${bits(v, 8, 8).toString(16)}${(v & 0xff) !== 0 ? `.${(v & 0xff).toString(16)}` : ''}`;
      default:
        return undefined;
    }
  }
  const port = (offset - PORT_BASE) >> 7;
  if (port >= MAX_PORTS) return undefined;
  switch ((offset - PORT_BASE) & (PORT_STRIDE - 1)) {
    case PX_IS:
    case PX_IE:
      return flagNames(v, IS_NAMES);
    case PX_CMD:
      return `ST=${v & 1} SUD=${bits(v, 1, 1)} POD=${bits(v, 2, 1)} CLO=${bits(v, 3, 1)} FRE=${bits(v, 4, 1)} CCS=${bits(v, 8, 5)} `
        + `FR=${bits(v, 14, 1)} CR=${bits(v, 15, 1)} ICC=${bits(v, 28, 4)}`;
    case PX_TFD:
      return `STS=${hx(v & 0xff)}${(v & 0x80) !== 0 ? ' BSY' : ''}${(v & 0x08) !== 0 ? ' DRQ' : ''}${(v & 1) !== 0 ? ' ERR' : ''} ERR=${hx(bits(v, 8, 8))}`;
    case PX_SSTS:
    case PX_SCTL:
      return `DET=${v & 0xf} SPD=${bits(v, 4, 4)} IPM=${bits(v, 8, 4)}`;
    case PX_SERR:
      return `ERR=${hx(v & 0xffff)} DIAG=${hx(v >>> 16)}`;
    default:
      return undefined;
  }
}

function hex64(d: Uint8Array, o: number): string {
  const lo = u32(d, o);
  const hi = u32(d, o + 4);
  return hi === 0 ? hx(lo) : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** "CFL=5 W=0 PRDTL=1 CTBA=0x..." or, for the 4-byte write-back, "PRDBC=512". */
export function decodeCmdHeader(d: Uint8Array): string | undefined {
  if (d.length === 4) return `PRDBC=${u32(d, 0)}`;
  if (d.length < 16) return undefined;
  const dw0 = u32(d, 0);
  const flags = ['A', 'W', 'P', 'R', 'B', 'C'].filter((_, i) => bits(dw0, 5 + i, 1) === 1);
  return `CFL=${dw0 & 0x1f}${flags.length > 0 ? ` ${flags.join(' ')}` : ''} PMP=${bits(dw0, 12, 4)} PRDTL=${dw0 >>> 16} `
    + `PRDBC=${u32(d, 4)} CTBA=${hex64(d, 8)}`;
}

/** "READ FPDMA QUEUED tag=3 lba=2048 count=8" / "IDENTIFY DEVICE". */
export function decodeCfis(d: Uint8Array): string | undefined {
  if (d.length < 20) return undefined;
  if (d[0] !== FisType.REG_H2D) return `FIS type ${hx(d[0]!)} (not a Register H2D FIS)`;
  const cmd = d[2]!;
  const lba = (d[4]! | (d[5]! << 8) | (d[6]! << 16)) + (d[8]! | (d[9]! << 8) | (d[10]! << 16)) * 0x1000000;
  const count = d[12]! | (d[13]! << 8);
  const features = d[3]! | (d[11]! << 8);
  const parts = [ataCommandName(cmd)];
  if ((d[1]! & 0x80) === 0) parts.push('C=0');
  switch (cmd) {
    case 0x60:
    case 0x61:
      parts.push(`tag=${d[12]! >>> 3}`, `lba=${lba}`, `count=${features === 0 ? 65536 : features}`);
      if ((d[7]! & 0x80) !== 0) parts.push('fua');
      break;
    case 0x25:
    case 0x35:
      parts.push(`lba=${lba}`, `count=${count === 0 ? 65536 : count}`);
      break;
    case 0xc8:
    case 0xca:
      parts.push(`lba=${(d[4]! | (d[5]! << 8) | (d[6]! << 16)) + (d[7]! & 0xf) * 0x1000000}`, `count=${d[12] === 0 ? 256 : d[12]}`);
      break;
    case 0xef:
      parts.push(`feature=${hx(d[3]!)}`, `count=${d[12]}`);
      break;
    case 0x2f:
      parts.push(`log=${hx(d[4]!)}`, `page=${d[5]! | (d[9]! << 8)}`, `count=${count}`);
      break;
    case 0xec:
    case 0xe7:
    case 0xea:
      break;
    default:
      parts.push(`features=${hx(features)}`, `lba=${lba}`, `count=${count}`);
  }
  return parts.join(' ');
}

/** "[2] 0x10000+4096 0x20000+512 I". */
export function decodePrdt(d: Uint8Array): string {
  const n = d.length >>> 4;
  const shown: string[] = [];
  for (let i = 0; i < n && i < 16; i++) {
    const dw3 = u32(d, i * 16 + 12);
    shown.push(`${hex64(d, i * 16)}+${(dw3 & 0x3fffff) + 1}${(dw3 & 0x80000000) !== 0 ? ' I' : ''}`);
  }
  return `PRDT [${n}]: ${shown.join(', ')}${n > 16 ? ', ...' : ''}`;
}

/** A received FIS: "D2H I status=0x50 error=0x0", "PIO Setup ...", "SDB I status=0x50 error=0x0 SActive=0x8". */
export function decodeFis(d: Uint8Array): string | undefined {
  if (d.length < 4) return undefined;
  const i = (d[1]! & 0x40) !== 0 ? ' I' : '';
  const se = `status=${hx(d[2]!)} error=${hx(d[3]!)}`;
  switch (d[0]) {
    case FisType.REG_D2H:
      return `D2H${i} ${se}`;
    case FisType.PIO_SETUP:
      return d.length >= 18 ? `PIO Setup${i} D=${(d[1]! >>> 5) & 1} ${se} E_Status=${hx(d[15]!)} count=${d[16]! | (d[17]! << 8)}` : `PIO Setup${i} ${se}`;
    case FisType.SET_DEVICE_BITS:
      return d.length >= 8 ? `SDB${i} ${se} SActive=${hx(u32(d, 4))}` : `SDB${i} ${se}`;
    default:
      return `FIS type ${hx(d[0]!)}`;
  }
}

/** Registers whose accesses follow timing: interrupt status acknowledgement, and PxCI/PxSACT polling. */
export function isVolatileAhciRegister(name: string): boolean {
  return name === 'IS' || /^P\d+(IS|CI|SACT)$/.test(name);
}

const ADDRESS_REGISTERS: readonly string[] = Array.from({ length: MAX_PORTS }, (_, p) => [`P${p}CLB`, `P${p}FB`]).flat();
const CMDHDR_FIELDS: readonly number[] = [8];
const prdtFieldCache: number[][] = [];
function prdtFields(len: number): readonly number[] {
  const n = len >>> 4;
  let f = prdtFieldCache[n];
  if (f === undefined) {
    f = Array.from({ length: n }, (_, i) => i * 16);
    if (n <= 1024) prdtFieldCache[n] = f;
  }
  return f;
}

export const ahciDecoder: DeviceDecoder = {
  type: 'ahci',
  regName,
  regFields,
  decodeDma(tag: string, data: Uint8Array): string | undefined {
    switch (tag) {
      case 'ahci.cmdhdr': return decodeCmdHeader(data);
      case 'ahci.cfis': return decodeCfis(data);
      case 'ahci.prdt': return decodePrdt(data);
      case 'ahci.fis': return decodeFis(data);
      default: return undefined;
    }
  },
  // PxCLB and PxFB: command list and received FIS area base addresses (AHCI 1.3.1 3.3.1, 3.3.3).
  addressRegisters: ADDRESS_REGISTERS,
  dmaAddressFields(tag: string, len: number): readonly number[] | undefined {
    switch (tag) {
      // CTBA/CTBAU of a command header (4.2.2).
      case 'ahci.cmdhdr': return len >= 16 ? CMDHDR_FIELDS : undefined;
      // DBA/DBAU of each PRD entry (4.2.3.3).
      case 'ahci.prdt': return prdtFields(len);
      default: return undefined;
    }
  },
  isVolatileRegister: isVolatileAhciRegister,
};
