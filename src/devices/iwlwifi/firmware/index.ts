/**
 * iwlwifi TLV ucode files for the 7265D model: the format (tlv.ts), writer
 * (build.ts), strict parser (parse.ts) and simrun's self-checking section
 * payloads (payload.ts). See docs/FIRMWARE.md.
 */
export * from './tlv.js';
export { buildFirmware, encodeTlvFile, imageTlvs, le32s, type RawHeader, type RawTlv } from './build.js';
export { parseFirmware, FirmwareFormatError, type ParseOptions } from './parse.js';
export * from './payload.js';
export { crc32 } from './crc32.js';
