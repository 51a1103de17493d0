/**
 * How tools name registers and decode DMA payloads of a device type. Each
 * device folder exports one `DeviceDecoder`; src/devices/decoders.ts lists
 * them by type. Used by `simrun inspect`, replay reports and diff.
 */
export interface DeviceDecoder {
  type: string;
  /** Register name at (bar, offset), e.g. "CC" or "SQ1TDBL"; undefined if unknown. */
  regName(bar: number, offset: number, size: number): string | undefined;
  /** Field breakdown of a register value, e.g. "EN=1 CSS=0 MPS=0 IOSQES=6 IOCQES=4". */
  regFields?(bar: number, offset: number, value: number, write: boolean): string | undefined;
  /** Decodes a DMA payload by tag ("nvme.sqe" -> "READ cid=3 nsid=1 slba=..."). */
  decodeDma?(tag: string, data: Uint8Array): string | undefined;
}
