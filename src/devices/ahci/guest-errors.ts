/**
 * The guest errors the ahci model records: code -> meaning and spec section
 * (Serial ATA AHCI 1.3.1; ATA commands: ACS-3; FIS rules: SATA 3.x). The
 * PCI function's own codes are in ../pci/guest-errors.ts; DMA refusals are
 * the DMA port's `dma.*` codes.
 */
import type { GuestErrorCatalogue } from '../device.js';

export const AHCI_GUEST_ERRORS = {
  // ---- Registers (3)
  'ahci.mmio.width': {
    meaning: 'An ABAR access that is not an aligned dword: a read returns the addressed bytes, a write is dropped',
    spec: 'AHCI 1.3.1 3 (registers are accessed as dwords)',
  },
  'ahci.reg.read-only': {
    meaning: 'A write to a read-only register or field (CAP, PI, VS, CAP2, GHC.AE cleared with CAP.SAM=1, PxTFD, PxSIG, PxSSTS); ignored',
    spec: 'AHCI 1.3.1 3.1, 3.3',
  },
  'ahci.reg.reserved': {
    meaning: 'A write to a reserved offset, an unimplemented port, or reserved bits of a register; the bits read 0',
    spec: 'AHCI 1.3.1 3',
  },
  'ahci.clb.unaligned': {
    meaning: 'PxCLB written with bits 9:0 set: the command list must be 1 KiB aligned; the low bits read 0',
    spec: 'AHCI 1.3.1 3.3.1',
  },
  'ahci.fb.unaligned': {
    meaning: 'PxFB written with bits 7:0 set: the received FIS area must be 256-byte aligned; the low bits read 0',
    spec: 'AHCI 1.3.1 3.3.3',
  },
  'ahci.clb.while-running': {
    meaning: 'PxCLB/PxCLBU written while PxCMD.ST or PxCMD.CR is 1; ignored',
    spec: 'AHCI 1.3.1 3.3.1, 3.3.2',
  },
  'ahci.fb.while-running': {
    meaning: 'PxFB/PxFBU written while PxCMD.FRE or PxCMD.FR is 1; ignored',
    spec: 'AHCI 1.3.1 3.3.3, 3.3.4',
  },
  'ahci.cmd.st-without-fre': {
    meaning: 'PxCMD.ST set while PxCMD.FRE is 0; the port starts, but received FISes are not posted to memory',
    spec: 'AHCI 1.3.1 3.3.7 (ST), 10.3.1',
  },
  'ahci.cmd.st-while-cr': {
    meaning: 'PxCMD.ST set again before PxCMD.CR returned to 0 after clearing it; the stop completes first, then the port starts',
    spec: 'AHCI 1.3.1 3.3.7 (ST, CR), 10.3.1',
  },
  'ahci.cmd.fre-cleared-while-st': {
    meaning: 'PxCMD.FRE cleared while PxCMD.ST is 1; ignored (FRE stays 1)',
    spec: 'AHCI 1.3.1 3.3.7 (FRE), 10.3.2',
  },
  'ahci.ci.not-started': {
    meaning: 'PxCI written while PxCMD.ST is 0: commands cannot be issued to a stopped port; ignored',
    spec: 'AHCI 1.3.1 3.3.14, 5.3.2',
  },
  'ahci.sact.not-started': {
    meaning: 'PxSACT written while PxCMD.ST is 0; ignored',
    spec: 'AHCI 1.3.1 3.3.13',
  },
  'ahci.sctl.while-started': {
    meaning: 'PxSCTL.DET changed while PxCMD.ST is 1; the reset or disable is carried out and the running commands are lost',
    spec: 'AHCI 1.3.1 3.3.11',
  },
  'ahci.sctl.comreset-short': {
    meaning: 'PxSCTL.DET returned to 0 less than 1 ms after it was set to 1 (COMRESET must be held at least 1 ms); the reset is carried out anyway',
    spec: 'AHCI 1.3.1 3.3.11, 10.4.2',
  },
  // ---- Commands (4.2, 5)
  'ahci.cmd.no-device': {
    meaning: 'A command issued to a port with no device or with the link down (PxSSTS.DET != 3); it stays in PxCI, never sent',
    spec: 'AHCI 1.3.1 5.3.2, 10.1.2',
  },
  'ahci.cmdhdr.cfl': {
    meaning: 'Command header CFL is below 2 or above 16 dwords; the port stops with PxIS.IFS and PxSERR.ERR.P',
    spec: 'AHCI 1.3.1 4.2.2',
  },
  'ahci.cmdhdr.ctba-unaligned': {
    meaning: 'Command header CTBA has bits 6:0 set: command tables are 128-byte aligned; the low bits are ignored',
    spec: 'AHCI 1.3.1 4.2.2',
  },
  'ahci.cmdhdr.direction': {
    meaning: 'Command header W bit does not match the direction of the ATA command (W=1 for a read, W=0 for a write); the command runs as the ATA command says',
    spec: 'AHCI 1.3.1 4.2.2',
  },
  'ahci.cfis.type': {
    meaning: 'The command FIS is not a Register H2D FIS (type 27h) with the C bit set; the device rejects it: PxIS.IFS and PxSERR.ERR.P, the port stops',
    spec: 'AHCI 1.3.1 4.2.3.1, 6.1.2; SATA 3.x 10.5.5',
  },
  'ahci.prdt.odd-count': {
    meaning: 'A PRD entry DBC with bit 0 clear (an odd byte count): bit 0 is always 1, the count is rounded up to even',
    spec: 'AHCI 1.3.1 4.2.3.3',
  },
  'ahci.prdt.reserved': {
    meaning: 'A PRD entry sets reserved DBC bits 30:22 (more than 4 MiB in one entry); they are ignored',
    spec: 'AHCI 1.3.1 4.2.3.3',
  },
  'ahci.prdt.dba-unaligned': {
    meaning: 'A PRD entry DBA has bit 0 set: data buffers are word aligned; bit 0 is ignored',
    spec: 'AHCI 1.3.1 4.2.3.3',
  },
  'ahci.prdt.short': {
    meaning: 'The PRD table describes fewer bytes than the command transfers; the port stops with PxIS.OFS',
    spec: 'AHCI 1.3.1 3.3.5 (OFS), 6.1.2',
  },
  'ahci.hbfs': {
    meaning: 'The HBA could not read a command header, command table or PRD table, or move data or a received FIS (DMA refused); PxIS.HBFS, the port stops',
    spec: 'AHCI 1.3.1 3.3.5 (HBFS), 6.1.2',
  },
  'ahci.ncq.sact-not-set': {
    meaning: 'A READ/WRITE FPDMA QUEUED command issued without its PxSACT bit set first; it runs, its completion clears nothing visible',
    spec: 'AHCI 1.3.1 5.3.2, 8.2 (PxSACT before PxCI)',
  },
  'ahci.ncq.tag-mismatch': {
    meaning: 'The tag in an FPDMA QUEUED command FIS (Count bits 7:3) is not the command slot; the HBA uses the slot',
    spec: 'AHCI 1.3.1 8.2',
  },
  'ahci.ncq.tag-beyond-depth': {
    meaning: 'An FPDMA QUEUED tag at or above the queue depth of IDENTIFY word 75; the device aborts the command',
    spec: 'ACS-3 7.22, 7.59 (TAG); SATA 3.x 13.6',
  },
  'ahci.ncq.mixed': {
    meaning: 'A non-queued command issued while queued commands are outstanding; the device aborts it and every queued command (PxIS.TFES)',
    spec: 'SATA 3.x 13.6.2; ACS-3 4.19',
  },
  'ahci.ata.unsupported': {
    meaning: 'An ATA command or SET FEATURES subcommand the device does not implement, or an invalid field; aborted (Error ABRT, PxIS.TFES)',
    spec: 'ACS-3 6.3.2',
  },
  'ahci.ata.lba-out-of-range': {
    meaning: 'A read or write beyond the last sector; aborted with Error IDNF (PxIS.TFES)',
    spec: 'ACS-3 6.3.5',
  },
} as const satisfies GuestErrorCatalogue;

/** A guest-error code the ahci model may record. */
export type AhciGuestErrorCode = keyof typeof AHCI_GUEST_ERRORS;
