/**
 * Identify data structures (NVMe 1.4 5.15.2, figures 247-251) and log pages
 * (5.14.1). Static structures are built once at construction; per-request
 * ones are written into preallocated buffers.
 */
import { CQES, NVME_VERSION, SQES } from './regs.js';

export const IDENTIFY_SIZE = 4096;

export interface IdentifyConfig {
  vendorId: number;
  subsystemVendorId: number;
  serial: string;
  model: string;
  firmware: string;
  mdts: number;
  /** Blocks in the active namespace. */
  blocks: number;
  lbaSize: number;
  /** Number of Namespaces (NN): NSIDs 1..namespaces are valid. */
  namespaces: number;
  /** The one active NSID (backed by the disk image); the other valid NSIDs are inactive. */
  activeNsid: number;
}

/**
 * Namespace IDs (NVMe 1.4 6.1.2-6.1.5). A valid NSID is 1..NN; it is active
 * when a namespace is attached to it, else inactive. 0 and NSIDs above NN
 * are invalid; FFFFFFFFh is the broadcast value, allowed only where a
 * command says so. The general rule, unless a command says otherwise: an
 * inactive NSID completes with Invalid Field in Command, an invalid one
 * with Invalid Namespace or Format.
 */
export const NSID_BROADCAST = 0xffffffff;
export const NS_ACTIVE = 0;
export const NS_INACTIVE = 1;
export const NS_INVALID = 2;
export const NS_BROADCAST = 3;

/** NS_ACTIVE, NS_INACTIVE, NS_INVALID or NS_BROADCAST for `nsid` on a controller with `nn` namespaces and `active` the active one. */
export function classifyNsid(nsid: number, nn: number, active: number): number {
  if (nsid === active) return NS_ACTIVE;
  if (nsid === NSID_BROADCAST) return NS_BROADCAST;
  if (nsid === 0 || nsid > nn) return NS_INVALID;
  return NS_INACTIVE;
}

/** Controller limits that also drive command handling. */
export const ACL = 3; // Abort Command Limit, 0's based
export const AERL = 3; // Asynchronous Event Request Limit, 0's based
export const ELPE = 3; // Error Log Page Entries, 0's based
export const WCTEMP = 0x157; // 343 K warning composite temperature threshold
export const CCTEMP = 0x175; // 373 K critical composite temperature threshold
export const COMPOSITE_TEMP = 0x139; // 313 K reported in the SMART log
/** ONCS bit 4: Save field in Set Features and Select field in Get Features. */
export const ONCS = 1 << 4;
/** VWC: volatile write cache present (bit 0), Flush with NSID FFFFFFFFh supported (bits 2:1 = 11b). */
export const VWC = 0x07;

function putAscii(buf: Uint8Array, off: number, len: number, text: string, pad: number): void {
  for (let i = 0; i < len; i++) buf[off + i] = i < text.length ? text.charCodeAt(i) & 0x7f : pad;
}

function put16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}

function put32(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off, v & 0xffff);
  put16(buf, off + 2, (v >>> 16) & 0xffff);
}

/** Little-endian 64-bit (exact below 2^53). */
function put64(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off, v % 0x1_0000_0000);
  put32(buf, off + 4, Math.floor(v / 0x1_0000_0000));
}

/** Deterministic 16-byte namespace GUID derived from the serial number and the NSID (FNV-1a stream). */
export function namespaceGuid(serial: string, nsid = 1): Uint8Array {
  const out = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) {
    const text = `${serial}/ns${nsid}/${i}`;
    for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193) >>> 0;
    out[i] = h & 0xff;
  }
  return out;
}

/** Identify Controller (CNS 01h), figure 247. */
export function buildIdentifyController(cfg: IdentifyConfig): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  put16(b, 0, cfg.vendorId); // VID
  put16(b, 2, cfg.subsystemVendorId); // SSVID
  putAscii(b, 4, 20, cfg.serial, 0x20); // SN
  putAscii(b, 24, 40, cfg.model, 0x20); // MN
  putAscii(b, 64, 8, cfg.firmware, 0x20); // FR
  b[72] = 6; // RAB: 2^6 commands
  b[73] = 0x00; b[74] = 0x54; b[75] = 0x52; // IEEE OUI 52-54-00, least significant byte first
  b[76] = 0; // CMIC: single port, single controller
  b[77] = cfg.mdts; // MDTS: 2^mdts * (2^(12+MPSMIN)) bytes
  put16(b, 78, 0); // CNTLID
  put32(b, 80, NVME_VERSION); // VER
  put32(b, 84, 500_000); // RTD3R (us)
  put32(b, 88, 1_000_000); // RTD3E (us)
  put32(b, 92, 0); // OAES: no optional notices
  put32(b, 96, 0); // CTRATT
  b[111] = 1; // CNTRLTYPE: I/O controller
  put16(b, 256, 0); // OACS: no optional admin commands
  b[258] = ACL;
  b[259] = AERL;
  b[260] = 0x03; // FRMW: slot 1 read-only, one slot
  b[261] = 0x04; // LPA: extended data for Get Log Page (NUMDU, LPOL/LPOU)
  b[262] = ELPE;
  b[263] = 0; // NPSS: one power state (PS0)
  b[264] = 1; // AVSCC: admin vendor specific commands use the standard format
  put16(b, 266, WCTEMP);
  put16(b, 268, CCTEMP);
  b[512] = (SQES << 4) | SQES; // SQES = 0x66
  b[513] = (CQES << 4) | CQES; // CQES = 0x44
  put16(b, 514, 0); // MAXCMD (fabrics only)
  put32(b, 516, cfg.namespaces); // NN
  put16(b, 520, ONCS);
  put16(b, 522, 0); // FUSES: no fused operations
  b[524] = 0; // FNA
  b[525] = VWC;
  put16(b, 526, 0); // AWUN
  put16(b, 528, 0); // AWUPF
  b[530] = 1; // NVSCC: NVM vendor specific commands use the standard format
  put32(b, 536, 0); // SGLS: SGLs not supported
  putAscii(b, 768, 256, `nqn.2019-08.org.simrun:nvme:${cfg.serial}`, 0); // SUBNQN
  // PSD0 (2048): maximum power 9.00 W, operational.
  put16(b, 2048, 900);
  return b;
}

/** Identify Namespace (CNS 00h) for the active NSID, figure 249. */
export function buildIdentifyNamespace(cfg: IdentifyConfig): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  put64(b, 0, cfg.blocks); // NSZE
  put64(b, 8, cfg.blocks); // NCAP
  put64(b, 16, cfg.blocks); // NUSE
  b[24] = 0; // NSFEAT
  b[25] = 0; // NLBAF: one format (0's based)
  b[26] = 0; // FLBAS: format 0, no metadata
  b[27] = 0; // MC
  b[28] = 0; // DPC
  b[29] = 0; // DPS
  b.set(namespaceGuid(cfg.serial, cfg.activeNsid), 104); // NGUID
  // LBAF0 (128): MS = 0, LBADS = log2(lbaSize), RP = 0 (best performance).
  put32(b, 128, Math.log2(cfg.lbaSize) << 16);
  return b;
}

/** Namespace Identification Descriptor list (CNS 03h) of the active NSID, figure 251: one NGUID descriptor. */
export function buildNsDescriptors(cfg: IdentifyConfig): Uint8Array {
  const b = new Uint8Array(IDENTIFY_SIZE);
  b[0] = 2; // NIDT: NGUID
  b[1] = 16; // NIDL
  b.set(namespaceGuid(cfg.serial, cfg.activeNsid), 4);
  return b;
}

/** Active Namespace ID list (CNS 02h): active NSIDs greater than `after`, ascending, into `out` (zero-filled after the last). */
export function fillActiveNsList(out: Uint8Array, after: number, active: number): void {
  out.fill(0, 0, IDENTIFY_SIZE);
  if (after < active) put32(out, 0, active);
}

export const ERROR_LOG_SIZE = (ELPE + 1) * 64;
export const SMART_LOG_SIZE = 512;
export const FW_SLOT_LOG_SIZE = 512;

export interface SmartCounters {
  bytesRead: number;
  bytesWritten: number;
  reads: number;
  writes: number;
  errors: number;
}

/** SMART / Health Information (LID 02h), figure 194, into `out` (>= 512 bytes). */
export function fillSmartLog(out: Uint8Array, c: SmartCounters): void {
  out.fill(0, 0, SMART_LOG_SIZE);
  out[0] = 0; // critical warning
  put16(out, 1, COMPOSITE_TEMP);
  out[3] = 100; // available spare %
  out[4] = 10; // available spare threshold %
  out[5] = 0; // percentage used
  // Data units are thousands of 512-byte units, rounded up (5.14.1.2).
  put64(out, 32, Math.ceil(c.bytesRead / 512_000));
  put64(out, 48, Math.ceil(c.bytesWritten / 512_000));
  put64(out, 64, c.reads);
  put64(out, 80, c.writes);
  put64(out, 112, 1); // power cycles
  put64(out, 176, c.errors); // number of error information log entries
}

/** Firmware Slot Information (LID 03h), figure 195. */
export function fillFirmwareSlotLog(out: Uint8Array, firmware: string): void {
  out.fill(0, 0, FW_SLOT_LOG_SIZE);
  out[0] = 1; // AFI: slot 1 active
  putAscii(out, 8, 8, firmware, 0x20); // FRS1
}
