/**
 * Trace decoder of virtio-blk: the transport's names (../transport/decode.ts)
 * plus the block configuration fields ("config.capacity") and the request
 * payloads: "virtio-blk.req" ("IN sector=8"), "virtio-blk.status" ("OK"),
 * "virtio-blk.dwz" (discard / write zeroes segments).
 */
import type { DeviceDecoder } from '../../../trace/decoder.js';
import { makeVirtioDecoder } from '../transport/decode.js';
import { BLK_DWZ_SEGMENT_SIZE, BLK_REQ_HEADER_SIZE, blkConfigFieldName, blkStatusName, requestTypeName } from './regs.js';

function u64(v: DataView, off: number): number {
  return v.getUint32(off + 4, true) * 0x1_0000_0000 + v.getUint32(off, true);
}

export function decodeBlkDma(tag: string, data: Uint8Array): string | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (tag) {
    case 'virtio-blk.req':
      if (data.length < BLK_REQ_HEADER_SIZE) return undefined;
      return `${requestTypeName(v.getUint32(0, true))} sector=${u64(v, 8)}${v.getUint32(4, true) !== 0 ? ` reserved=${v.getUint32(4, true)}` : ''}`;
    case 'virtio-blk.status':
      return data.length === 1 ? blkStatusName(data[0]!) : undefined;
    case 'virtio-blk.dwz': {
      const segs: string[] = [];
      for (let o = 0; o + BLK_DWZ_SEGMENT_SIZE <= data.length; o += BLK_DWZ_SEGMENT_SIZE) {
        const flags = v.getUint32(o + 12, true);
        segs.push(`sector=${u64(v, o)} n=${v.getUint32(o + 8, true)}${flags !== 0 ? ` flags=0x${flags.toString(16)}` : ''}`);
      }
      return segs.join('; ');
    }
    default:
      return undefined;
  }
}

export const virtioBlkDecoder: DeviceDecoder = makeVirtioDecoder({
  type: 'virtio-blk',
  configFieldName: blkConfigFieldName,
  decodeDeviceDma: decodeBlkDma,
});
