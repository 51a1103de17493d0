/**
 * Trace decoding shared by every virtio PCI device type: register names of
 * BAR4 (common configuration fields by spec name, "isr_status",
 * "notify.q<N>", device configuration fields through the device's table)
 * and BAR1 (MSI-X table and PBA), field breakdowns (device_status bits,
 * ISR bits, vectors), and the ring payloads ("virtq.desc",
 * "virtq.indirect", "virtq.avail", "virtq.used"). A device type builds its
 * decoder with `makeVirtioDecoder`, adding its config names and its own DMA
 * tags. Decoding allocates; it never runs on the simulation's hot path.
 */
import type { DeviceDecoder } from '../../../trace/decoder.js';
import {
  CC_CONFIG_MSIX_VECTOR, CC_DEVICE_STATUS, CC_QUEUE_ENABLE, CC_QUEUE_MSIX_VECTOR, COMMON_CFG_SIZE, DEVICE_CFG_OFFSET,
  ISR_OFFSET, MSIX_BAR, MSIX_PBA_OFFSET, NOTIFY_OFF_MULTIPLIER, NOTIFY_OFFSET, REGION_SIZE, VIRTIO_BAR,
  VIRTIO_MSI_NO_VECTOR, commonFieldName, statusNames,
} from './regs.js';
import { DESC_SIZE, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../virtqueue.js';

export interface VirtioDecoderOptions {
  type: string;
  /** Name of the device configuration field containing `offset`. */
  configFieldName(offset: number): string | undefined;
  /** The device type's own DMA tags. */
  decodeDeviceDma?(tag: string, data: Uint8Array): string | undefined;
}

const MSIX_FIELDS = ['ADDR_LO', 'ADDR_HI', 'DATA', 'CTRL'];

function hex64(v: DataView, off: number): string {
  const lo = v.getUint32(off, true);
  const hi = v.getUint32(off + 4, true);
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

function descFlags(f: number): string {
  const parts: string[] = [];
  if (f & VIRTQ_DESC_F_NEXT) parts.push('NEXT');
  if (f & VIRTQ_DESC_F_WRITE) parts.push('WRITE');
  if (f & VIRTQ_DESC_F_INDIRECT) parts.push('INDIRECT');
  const other = f & ~7;
  if (other !== 0) parts.push(`0x${other.toString(16)}`);
  return parts.length === 0 ? '0' : parts.join('|');
}

/** "addr=0x5000 len=16 flags=NEXT next=1" per descriptor (several for an indirect table read at once). */
export function decodeDescriptors(data: Uint8Array): string | undefined {
  if (data.length < DESC_SIZE || data.length % DESC_SIZE !== 0) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: string[] = [];
  for (let o = 0; o < data.length && out.length < 16; o += DESC_SIZE) {
    const flags = v.getUint16(o + 12, true);
    let s = `addr=${hex64(v, o)} len=${v.getUint32(o + 8, true)} flags=${descFlags(flags)}`;
    if (flags & VIRTQ_DESC_F_NEXT) s += ` next=${v.getUint16(o + 14, true)}`;
    out.push(s);
  }
  return out.join('; ') + (data.length / DESC_SIZE > 16 ? ' ...' : '');
}

/** Used ring element "id=3 len=513", or a 16-bit ring field. */
function decodeRing(data: Uint8Array): string | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length === 8) return `id=${v.getUint32(0, true)} len=${v.getUint32(4, true)}`;
  if (data.length === 2) return `u16=${v.getUint16(0, true)}`;
  return undefined;
}

export function makeVirtioDecoder(o: VirtioDecoderOptions): DeviceDecoder {
  const regName = (bar: number, offset: number): string | undefined => {
    if (bar === MSIX_BAR) {
      const suffix = (offset & 3) === 0 ? '' : `+${offset & 3}`;
      if (offset < MSIX_PBA_OFFSET) return `MSIX[${offset >> 4}].${MSIX_FIELDS[(offset >> 2) & 3]}${suffix}`;
      const rel = offset - MSIX_PBA_OFFSET;
      return `PBA[${rel >> 3}]${(rel & 4) !== 0 ? '.hi' : ''}${suffix}`;
    }
    if (bar !== VIRTIO_BAR) return undefined;
    const region = offset - (offset % REGION_SIZE);
    const off = offset - region;
    switch (region) {
      case 0: return off < COMMON_CFG_SIZE ? commonFieldName(off) : undefined;
      case ISR_OFFSET: return off === 0 ? 'isr_status' : undefined;
      case DEVICE_CFG_OFFSET: {
        const f = o.configFieldName(off);
        return f === undefined ? undefined : `config.${f}`;
      }
      case NOTIFY_OFFSET: return off % NOTIFY_OFF_MULTIPLIER === 0 ? `notify.q${off / NOTIFY_OFF_MULTIPLIER}` : undefined;
      default: return undefined;
    }
  };
  return {
    type: o.type,
    regName,
    regFields(bar: number, offset: number, value: number): string | undefined {
      if (bar !== VIRTIO_BAR) return undefined;
      const v = value >>> 0;
      switch (offset) {
        case CC_DEVICE_STATUS: return statusNames(v & 0xff);
        case CC_CONFIG_MSIX_VECTOR:
        case CC_QUEUE_MSIX_VECTOR: return (v & 0xffff) === VIRTIO_MSI_NO_VECTOR ? 'NO_VECTOR' : `vector ${v & 0xffff}`;
        case CC_QUEUE_ENABLE: return `enable=${v & 1}`;
        case ISR_OFFSET: return `QUEUE=${v & 1} CONFIG=${(v >>> 1) & 1}`;
        default: return undefined;
      }
    },
    decodeDma(tag: string, data: Uint8Array): string | undefined {
      switch (tag) {
        case 'virtq.desc':
        case 'virtq.indirect': return decodeDescriptors(data);
        case 'virtq.avail':
        case 'virtq.used': return decodeRing(data);
        default: return o.decodeDeviceDma?.(tag, data);
      }
    },
    // Ring base addresses (the low halves; the high halves are 0 below 4 GiB).
    addressRegisters: ['queue_desc', 'queue_driver', 'queue_device'],
    dmaAddressFields(tag: string, len: number): readonly number[] | undefined {
      if ((tag === 'virtq.desc' || tag === 'virtq.indirect') && len >= DESC_SIZE && len % DESC_SIZE === 0) {
        const out: number[] = [];
        for (let i = 0; i < len; i += DESC_SIZE) out.push(i);
        return out;
      }
      return undefined;
    },
    // Notifications and the ISR follow timing (batching, one read per interrupt), not behaviour.
    isVolatileRegister: (name: string) => name.startsWith('notify.') || name === 'isr_status',
  };
}
