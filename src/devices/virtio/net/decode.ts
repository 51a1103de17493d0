/**
 * Trace decoder of virtio-net: the transport's names (../transport/decode.ts)
 * plus the network configuration fields ("config.mac", "config.status",
 * "config.max_virtqueue_pairs", "config.mtu", "config.speed",
 * "config.duplex") and the payloads: "virtio-net.hdr" ("flags=NEEDS_CSUM
 * gso=NONE csum_start=34 csum_offset=6 num_buffers=1"), "virtio-net.ctrl"
 * ("RX.PROMISC 00"), "virtio-net.ack" ("OK" / "ERR"). Frame bytes ("data")
 * are left to the `eth` records.
 */
import type { DeviceDecoder } from '../../../trace/decoder.js';
import { makeVirtioDecoder } from '../transport/decode.js';
import {
  CTRL_ERR, CTRL_OK, HDR_CSUM_OFFSET, HDR_CSUM_START, HDR_FLAGS, HDR_GSO_SIZE, HDR_GSO_TYPE, HDR_HDR_LEN, HDR_NUM_BUFFERS,
  NET_HDR_SIZE, ctrlCommandName, gsoTypeName, hdrFlagNames, netConfigFieldName,
} from './regs.js';

export function decodeNetDma(tag: string, data: Uint8Array): string | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (tag) {
    case 'virtio-net.hdr': {
      if (data.length !== NET_HDR_SIZE) return undefined;
      let s = `flags=${hdrFlagNames(data[HDR_FLAGS]!)} gso=${gsoTypeName(data[HDR_GSO_TYPE]!)}`;
      const hdrLen = v.getUint16(HDR_HDR_LEN, true);
      const gsoSize = v.getUint16(HDR_GSO_SIZE, true);
      if (hdrLen !== 0 || gsoSize !== 0) s += ` hdr_len=${hdrLen} gso_size=${gsoSize}`;
      s += ` csum_start=${v.getUint16(HDR_CSUM_START, true)} csum_offset=${v.getUint16(HDR_CSUM_OFFSET, true)}`;
      return `${s} num_buffers=${v.getUint16(HDR_NUM_BUFFERS, true)}`;
    }
    case 'virtio-net.ctrl': {
      if (data.length === 2) return ctrlCommandName(data[0]!, data[1]!);
      const hex: string[] = [];
      for (let i = 0; i < data.length && i < 32; i++) hex.push(data[i]!.toString(16).padStart(2, '0'));
      return hex.join(' ') + (data.length > 32 ? ' ...' : '');
    }
    case 'virtio-net.ack':
      if (data.length !== 1) return undefined;
      return data[0] === CTRL_OK ? 'OK' : data[0] === CTRL_ERR ? 'ERR' : `ack${data[0]}`;
    default:
      return undefined;
  }
}

export const virtioNetDecoder: DeviceDecoder = makeVirtioDecoder({
  type: 'virtio-net',
  configFieldName: netConfigFieldName,
  decodeDeviceDma: decodeNetDma,
});
