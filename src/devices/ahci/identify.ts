/**
 * IDENTIFY DEVICE data (ACS-3 7.12.7, table 45): 256 words, little-endian.
 * Only the words an OS driver reads are filled; the rest are 0. Strings are
 * ATA strings: space padded, and the two characters of each word swapped
 * (the first character of the string is the high byte of the first word).
 */
export const IDENTIFY_SIZE = 512;

export interface IdentifyConfig {
  serial: string;
  firmware: string;
  model: string;
  /** Addressable logical sectors (512 bytes). */
  sectors: number;
  /** Queue depth for NCQ (1..32). */
  ncqDepth: number;
  /** Highest SATA generation the device supports: 1 (1.5 Gb/s), 2 (3), 3 (6). */
  gen: number;
  writeCache: boolean;
  readLookAhead: boolean;
}

/** Writes `text` as an ATA string into words [first, first + words). */
export function putAtaString(buf: Uint8Array, first: number, words: number, text: string): void {
  for (let i = 0; i < words * 2; i++) {
    const ch = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
    // Character i goes to the high byte of word i/2 when i is even, the low byte when odd.
    buf[(first + (i >> 1)) * 2 + ((i & 1) === 0 ? 1 : 0)] = ch;
  }
}

/** Reads an ATA string back (tests, decoders): trailing spaces removed. */
export function getAtaString(buf: Uint8Array, first: number, words: number): string {
  let s = '';
  for (let i = 0; i < words * 2; i++) s += String.fromCharCode(buf[(first + (i >> 1)) * 2 + ((i & 1) === 0 ? 1 : 0)]!);
  return s.replace(/ +$/, '');
}

/** Fills `buf` (512 bytes) with the device's IDENTIFY DEVICE data, checksum included. */
export function buildIdentify(buf: Uint8Array, cfg: IdentifyConfig): void {
  buf.fill(0, 0, IDENTIFY_SIZE);
  const w = (i: number, v: number): void => {
    buf[i * 2] = v & 0xff;
    buf[i * 2 + 1] = (v >>> 8) & 0xff;
  };
  const sectors28 = Math.min(cfg.sectors, 0x0fffffff);
  // Word 0: ATA device (bit 15 = 0), not removable. Words 1, 3, 6: legacy CHS geometry (16 heads, 63 sectors/track).
  w(0, 0x0040);
  w(1, Math.min(16383, Math.floor(cfg.sectors / (16 * 63))));
  w(3, 16);
  w(6, 63);
  putAtaString(buf, 10, 10, cfg.serial);
  putAtaString(buf, 23, 4, cfg.firmware);
  putAtaString(buf, 27, 20, cfg.model);
  w(47, 0x8010); // READ/WRITE MULTIPLE: at most 16 sectors per DRQ block
  w(49, 0x0f00); // capabilities: DMA (8), LBA (9), IORDY may be disabled (10), IORDY supported (11)
  w(50, 0x4000); // bit 14 shall be 1
  w(53, 0x0006); // words 64-70 and 88 are valid
  w(60, sectors28 & 0xffff);
  w(61, sectors28 >>> 16);
  w(63, 0x0007); // multiword DMA modes 0-2 supported
  w(64, 0x0003); // PIO modes 3 and 4
  for (let i = 65; i <= 68; i++) w(i, 120); // minimum cycle times, ns
  w(75, cfg.ncqDepth - 1); // queue depth - 1 (bits 4:0)
  // Word 76, SATA capabilities: Gen1/2/3 speeds (bits 1..3), NCQ (bit 8).
  let sata = 0x0100;
  for (let g = 1; g <= cfg.gen; g++) sata |= 1 << g;
  w(76, sata);
  w(77, cfg.gen << 1); // current negotiated speed (bits 3:1)
  w(80, 0x07f0); // major version: ATA/ATAPI-4 .. ACS-3
  // Word 82/85: SMART no, PM feature set (3), write cache (5), look-ahead (6), NOP (14).
  w(82, 0x4068);
  w(83, 0x7400); // bit 14 shall be 1; FLUSH CACHE (12), FLUSH CACHE EXT (13), 48-bit address (10)
  w(84, 0x4000);
  w(85, 0x4008 | (cfg.writeCache ? 0x20 : 0) | (cfg.readLookAhead ? 0x40 : 0));
  w(86, 0xb400); // words 119-120 valid (15), FLUSH CACHE EXT, FLUSH CACHE, 48-bit address enabled
  w(87, 0x4000);
  w(88, 0x407f); // UDMA modes 0-6 supported, mode 6 selected
  // Words 100-103: 48-bit addressable sectors.
  let n = cfg.sectors;
  for (let i = 100; i <= 103; i++) {
    w(i, n % 0x10000);
    n = Math.floor(n / 0x10000);
  }
  // Word 106: valid (bit 14), one 512-byte logical sector per physical sector;
  // bit 12 = 0, so words 117-118 (logical sector size) are not used: 256 words.
  w(106, 0x4000);
  w(119, 0x4000);
  w(120, 0x4000);
  w(217, 0x0001); // nominal media rotation rate: non-rotating (solid state)
  // Word 255: integrity word, signature A5h in the low byte and a checksum in
  // the high byte that makes the sum of all 512 bytes 0 modulo 256 (ACS-3 7.12.7.90).
  buf[510] = 0xa5;
  let sum = 0;
  for (let i = 0; i < 511; i++) sum += buf[i]!;
  buf[511] = (256 - (sum & 0xff)) & 0xff;
}
