/**
 * Frame Information Structures the device sends to the host, built into a
 * preallocated 32-byte buffer (SATA 3.x 10.5; AHCI 1.3.1 4.2.1 for where
 * each lands in the received FIS area). Nothing here allocates.
 */
import { FisType } from './ata.js';

export const FIS_BUF_SIZE = 32;
/** D2H Register FIS: 20 bytes. */
export const D2H_LEN = 20;
/** PIO Setup FIS: 20 bytes. */
export const PIO_SETUP_LEN = 20;
/** Set Device Bits FIS: 8 bytes. */
export const SDB_LEN = 8;

/** FIS flag byte bit: Interrupt. */
export const FIS_I = 0x40;
/** PIO Setup FIS flag byte bit: D (transfer device to host). */
export const FIS_D = 0x20;

/** D2H Register FIS (SATA 10.5.6): status, error, and the shadow registers of the command (LBA, count). */
export function buildD2h(buf: Uint8Array, interrupt: boolean, status: number, error: number, lba: number, count: number): void {
  buf.fill(0, 0, D2H_LEN);
  buf[0] = FisType.REG_D2H;
  buf[1] = interrupt ? FIS_I : 0;
  buf[2] = status;
  buf[3] = error;
  putLbaCount(buf, lba, count);
}

/** The D2H FIS a device sends after reset: status, error 01h (diagnostics passed) and the ATA signature in LBA/count. */
export function buildSignatureD2h(buf: Uint8Array, status: number, sig: number): void {
  buf.fill(0, 0, D2H_LEN);
  buf[0] = FisType.REG_D2H;
  buf[1] = FIS_I;
  buf[2] = status;
  buf[3] = 0x01;
  // PxSIG (AHCI 3.3.9): count 7:0, LBA 7:0, LBA 15:8, LBA 23:16 from low to high byte.
  buf[12] = sig & 0xff;
  buf[4] = (sig >>> 8) & 0xff;
  buf[5] = (sig >>> 16) & 0xff;
  buf[6] = (sig >>> 24) & 0xff;
}

/** PIO Setup FIS (SATA 10.5.11), data in: initial status BSY|DRQ-free as sent before data, E_Status after it. */
export function buildPioSetup(buf: Uint8Array, status: number, error: number, eStatus: number, bytes: number, lba: number, count: number): void {
  buf.fill(0, 0, PIO_SETUP_LEN);
  buf[0] = FisType.PIO_SETUP;
  buf[1] = FIS_I | FIS_D;
  buf[2] = status;
  buf[3] = error;
  putLbaCount(buf, lba, count);
  buf[15] = eStatus;
  buf[16] = bytes & 0xff;
  buf[17] = (bytes >>> 8) & 0xff;
}

/**
 * Set Device Bits FIS (SATA 10.5.7): status bits 6:4 and 2:0 (written into
 * PxTFD.STS, BSY and DRQ untouched), error, and SActive bits of the queued
 * commands completed.
 */
export function buildSdb(buf: Uint8Array, interrupt: boolean, status: number, error: number, sactive: number): void {
  buf.fill(0, 0, SDB_LEN);
  buf[0] = FisType.SET_DEVICE_BITS;
  buf[1] = interrupt ? FIS_I : 0;
  buf[2] = status & 0x77;
  buf[3] = error;
  buf[4] = sactive & 0xff;
  buf[5] = (sactive >>> 8) & 0xff;
  buf[6] = (sactive >>> 16) & 0xff;
  buf[7] = (sactive >>> 24) & 0xff;
}

function putLbaCount(buf: Uint8Array, lba: number, count: number): void {
  const lo = lba % 0x1_0000_0000;
  const hi = Math.floor(lba / 0x1_0000_0000);
  buf[4] = lo & 0xff;
  buf[5] = (lo >>> 8) & 0xff;
  buf[6] = (lo >>> 16) & 0xff;
  buf[7] = 0x40; // device: LBA mode
  buf[8] = (lo >>> 24) & 0xff;
  buf[9] = hi & 0xff;
  buf[10] = (hi >>> 8) & 0xff;
  buf[12] = count & 0xff;
  buf[13] = (count >>> 8) & 0xff;
}
