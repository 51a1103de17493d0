/**
 * ATA/ACS command opcodes, status and error bits, and the Serial ATA FIS
 * types this model sends and receives (SATA 3.x 10.5; ACS-3 7). The model's
 * own definitions.
 */

export const AtaCmd = {
  READ_DMA: 0xc8,
  WRITE_DMA: 0xca,
  READ_DMA_EXT: 0x25,
  WRITE_DMA_EXT: 0x35,
  READ_LOG_EXT: 0x2f,
  READ_FPDMA_QUEUED: 0x60,
  WRITE_FPDMA_QUEUED: 0x61,
  FLUSH_CACHE: 0xe7,
  FLUSH_CACHE_EXT: 0xea,
  IDENTIFY_DEVICE: 0xec,
  SET_FEATURES: 0xef,
} as const;

const CMD_NAMES: Readonly<Record<number, string>> = {
  [AtaCmd.READ_DMA]: 'READ DMA',
  [AtaCmd.WRITE_DMA]: 'WRITE DMA',
  [AtaCmd.READ_DMA_EXT]: 'READ DMA EXT',
  [AtaCmd.WRITE_DMA_EXT]: 'WRITE DMA EXT',
  [AtaCmd.READ_LOG_EXT]: 'READ LOG EXT',
  [AtaCmd.READ_FPDMA_QUEUED]: 'READ FPDMA QUEUED',
  [AtaCmd.WRITE_FPDMA_QUEUED]: 'WRITE FPDMA QUEUED',
  [AtaCmd.FLUSH_CACHE]: 'FLUSH CACHE',
  [AtaCmd.FLUSH_CACHE_EXT]: 'FLUSH CACHE EXT',
  [AtaCmd.IDENTIFY_DEVICE]: 'IDENTIFY DEVICE',
  [AtaCmd.SET_FEATURES]: 'SET FEATURES',
  0x00: 'NOP',
  0x20: 'READ SECTORS',
  0x24: 'READ SECTORS EXT',
  0x30: 'WRITE SECTORS',
  0x34: 'WRITE SECTORS EXT',
  0x47: 'READ LOG DMA EXT',
  0xa0: 'PACKET',
  0xa1: 'IDENTIFY PACKET DEVICE',
  0xb0: 'SMART',
  0xe0: 'STANDBY IMMEDIATE',
  0xe5: 'CHECK POWER MODE',
};

export function ataCommandName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `command 0x${cmd.toString(16).padStart(2, '0')}`;
}

/** Status register bits (ACS-3 6.2). */
export const Sts = {
  ERR: 0x01,
  DRQ: 0x08,
  DF: 0x20,
  DRDY: 0x40,
  BSY: 0x80,
} as const;
/** Status of a device ready and idle: DRDY | bit 4 (historically DSC). */
export const STS_READY = 0x50;
/** Status of a command that failed: ready with ERR. */
export const STS_ERROR = 0x51;

/** Error register bits (ACS-3 6.3). */
export const AtaErr = {
  /** After a reset: diagnostics passed (this value in the Error field, not a bit). */
  DIAG_OK: 0x01,
  ABRT: 0x04,
  IDNF: 0x10,
  UNC: 0x40,
  ICRC: 0x80,
} as const;

/** FIS types (SATA 3.x 10.5). */
export const FisType = {
  REG_H2D: 0x27,
  REG_D2H: 0x34,
  DMA_ACTIVATE: 0x39,
  DMA_SETUP: 0x41,
  DATA: 0x46,
  BIST: 0x58,
  PIO_SETUP: 0x5f,
  SET_DEVICE_BITS: 0xa1,
} as const;

/** Signature of an ATA disk in the first D2H Register FIS after reset (PxSIG, AHCI 3.3.9). */
export const SIG_ATA = 0x00000101;

/** SET FEATURES subcommands (Features field) this device accepts (ACS-3 7.45). */
export const SetFeature = {
  ENABLE_WRITE_CACHE: 0x02,
  SET_TRANSFER_MODE: 0x03,
  ENABLE_SATA_FEATURE: 0x10,
  DISABLE_READ_LOOK_AHEAD: 0x55,
  DISABLE_WRITE_CACHE: 0x82,
  DISABLE_SATA_FEATURE: 0x90,
  ENABLE_READ_LOOK_AHEAD: 0xaa,
} as const;

/** READ LOG EXT log address of the NCQ Command Error log (ACS-3 A.14). */
export const LOG_NCQ_ERROR = 0x10;
/** READ LOG EXT log address of the General Purpose Log Directory (ACS-3 A.2). */
export const LOG_DIRECTORY = 0x00;
