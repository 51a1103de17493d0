/**
 * The model's own definitions of the virtio block device (virtio 1.2 5.2):
 * feature bits, request types and statuses, and the configuration layout.
 * Written from the specification; drivers keep their own copies.
 */

/** virtio device type of a block device (5.2.1); PCI device id 0x1042. */
export const VIRTIO_ID_BLOCK = 2;
/** PCI class: mass storage, other (QEMU's virtio-blk-pci uses 01:00:00, SCSI). */
export const BLK_CLASS_CODE = 0x010000;

// ---- Feature bits (5.2.3) ------------------------------------------------------
export const BLK_F_SIZE_MAX = 1;
export const BLK_F_SEG_MAX = 2;
export const BLK_F_GEOMETRY = 4;
export const BLK_F_RO = 5;
export const BLK_F_BLK_SIZE = 6;
export const BLK_F_FLUSH = 9;
export const BLK_F_TOPOLOGY = 10;
export const BLK_F_CONFIG_WCE = 11;
export const BLK_F_MQ = 12;
export const BLK_F_DISCARD = 13;
export const BLK_F_WRITE_ZEROES = 14;
export const BLK_F_LIFETIME = 15;
export const BLK_F_SECURE_ERASE = 16;
export const BLK_F_ZONED = 17;

export const BLK_FEATURE_NAMES: Readonly<Record<number, string>> = {
  [BLK_F_SIZE_MAX]: 'SIZE_MAX', [BLK_F_SEG_MAX]: 'SEG_MAX', [BLK_F_GEOMETRY]: 'GEOMETRY', [BLK_F_RO]: 'RO',
  [BLK_F_BLK_SIZE]: 'BLK_SIZE', [BLK_F_FLUSH]: 'FLUSH', [BLK_F_TOPOLOGY]: 'TOPOLOGY', [BLK_F_CONFIG_WCE]: 'CONFIG_WCE',
  [BLK_F_MQ]: 'MQ', [BLK_F_DISCARD]: 'DISCARD', [BLK_F_WRITE_ZEROES]: 'WRITE_ZEROES', [BLK_F_LIFETIME]: 'LIFETIME',
  [BLK_F_SECURE_ERASE]: 'SECURE_ERASE', [BLK_F_ZONED]: 'ZONED',
};

// ---- Requests (5.2.6) --------------------------------------------------------------
export const BLK_T_IN = 0;
export const BLK_T_OUT = 1;
export const BLK_T_FLUSH = 4;
export const BLK_T_GET_ID = 8;
export const BLK_T_GET_LIFETIME = 10;
export const BLK_T_DISCARD = 11;
export const BLK_T_WRITE_ZEROES = 13;
export const BLK_T_SECURE_ERASE = 14;

export const BLK_S_OK = 0;
export const BLK_S_IOERR = 1;
export const BLK_S_UNSUPP = 2;

/** Request header: le32 type, le32 reserved, le64 sector. */
export const BLK_REQ_HEADER_SIZE = 16;
/** Discard / write zeroes segment: le64 sector, le32 num_sectors, le32 flags (bit 0 unmap). */
export const BLK_DWZ_SEGMENT_SIZE = 16;
export const BLK_DWZ_F_UNMAP = 1;
/** GET_ID: a NUL-padded ASCII string of up to 20 bytes. */
export const BLK_ID_BYTES = 20;
/** Protocol sector size: always 512 bytes whatever blk_size says (5.2.5). */
export const SECTOR_SIZE = 512;
export const SECTOR_SHIFT = 9;

export function requestTypeName(t: number): string {
  switch (t) {
    case BLK_T_IN: return 'IN';
    case BLK_T_OUT: return 'OUT';
    case BLK_T_FLUSH: return 'FLUSH';
    case BLK_T_GET_ID: return 'GET_ID';
    case BLK_T_GET_LIFETIME: return 'GET_LIFETIME';
    case BLK_T_DISCARD: return 'DISCARD';
    case BLK_T_WRITE_ZEROES: return 'WRITE_ZEROES';
    case BLK_T_SECURE_ERASE: return 'SECURE_ERASE';
    default: return `type${t}`;
  }
}

export function blkStatusName(s: number): string {
  return s === BLK_S_OK ? 'OK' : s === BLK_S_IOERR ? 'IOERR' : s === BLK_S_UNSUPP ? 'UNSUPP' : `status${s}`;
}

// ---- Configuration layout (5.2.4) ----------------------------------------------------
export const CFG_CAPACITY = 0;
export const CFG_SIZE_MAX = 8;
export const CFG_SEG_MAX = 12;
export const CFG_GEOMETRY = 16;
export const CFG_BLK_SIZE = 20;
export const CFG_TOPOLOGY = 24;
export const CFG_WRITEBACK = 32;
export const CFG_NUM_QUEUES = 34;
export const CFG_MAX_DISCARD_SECTORS = 36;
export const CFG_MAX_DISCARD_SEG = 40;
export const CFG_DISCARD_SECTOR_ALIGNMENT = 44;
export const CFG_MAX_WRITE_ZEROES_SECTORS = 48;
export const CFG_MAX_WRITE_ZEROES_SEG = 52;
export const CFG_WRITE_ZEROES_MAY_UNMAP = 56;
export const CFG_MAX_SECURE_ERASE_SECTORS = 60;
/** Bytes exposed: through the secure erase fields (zoned characteristics are not offered). */
export const BLK_CONFIG_SIZE = 72;

/** Field names of the configuration for traces: [offset, size, name]. */
export const BLK_CONFIG_FIELDS: ReadonlyArray<readonly [number, number, string]> = [
  [CFG_CAPACITY, 4, 'capacity'], [CFG_CAPACITY + 4, 4, 'capacity_hi'], [CFG_SIZE_MAX, 4, 'size_max'],
  [CFG_SEG_MAX, 4, 'seg_max'], [CFG_GEOMETRY, 2, 'geometry.cylinders'], [CFG_GEOMETRY + 2, 1, 'geometry.heads'],
  [CFG_GEOMETRY + 3, 1, 'geometry.sectors'], [CFG_BLK_SIZE, 4, 'blk_size'], [CFG_TOPOLOGY, 1, 'physical_block_exp'],
  [CFG_TOPOLOGY + 1, 1, 'alignment_offset'], [CFG_TOPOLOGY + 2, 2, 'min_io_size'], [CFG_TOPOLOGY + 4, 4, 'opt_io_size'],
  [CFG_WRITEBACK, 1, 'writeback'], [CFG_WRITEBACK + 1, 1, 'unused0'], [CFG_NUM_QUEUES, 2, 'num_queues'],
  [CFG_MAX_DISCARD_SECTORS, 4, 'max_discard_sectors'], [CFG_MAX_DISCARD_SEG, 4, 'max_discard_seg'],
  [CFG_DISCARD_SECTOR_ALIGNMENT, 4, 'discard_sector_alignment'], [CFG_MAX_WRITE_ZEROES_SECTORS, 4, 'max_write_zeroes_sectors'],
  [CFG_MAX_WRITE_ZEROES_SEG, 4, 'max_write_zeroes_seg'], [CFG_WRITE_ZEROES_MAY_UNMAP, 1, 'write_zeroes_may_unmap'],
  [CFG_WRITE_ZEROES_MAY_UNMAP + 1, 3, 'unused1'], [CFG_MAX_SECURE_ERASE_SECTORS, 4, 'max_secure_erase_sectors'],
  [CFG_MAX_SECURE_ERASE_SECTORS + 4, 4, 'max_secure_erase_seg'], [CFG_MAX_SECURE_ERASE_SECTORS + 8, 4, 'secure_erase_sector_alignment'],
];

export function blkConfigFieldName(offset: number): string | undefined {
  for (const [off, size, name] of BLK_CONFIG_FIELDS) {
    if (offset >= off && offset < off + size) return offset === off ? name : `${name}+${offset - off}`;
  }
  return undefined;
}
