/**
 * virtio network device ("virtio-net", virtio 1.2 5.1) over the modern
 * virtio PCI transport (PCI 1af4:1041, revision 1, subsystem 1af4:0001,
 * class 020000), attached to the simulated Ethernet of a network file
 * (src/net, docs/NETWORK.md) named by the `network` prop.
 *
 * Offers VERSION_1, MAC, STATUS, MTU, SPEED_DUPLEX, MRG_RXBUF (prop), CSUM
 * and GUEST_CSUM (props), CTRL_VQ with CTRL_RX and CTRL_MAC_ADDR (prop
 * ctrlVq), INDIRECT_DESC and EVENT_IDX (props), RING_RESET. No GSO/TSO/UFO,
 * no MQ/RSS, no VLAN filtering, no GUEST_ANNOUNCE.
 * Queues: receiveq0 (0), transmitq0 (1), controlq (2, with ctrlVq).
 * Layout, interrupts and DMA tags: ../transport/pci-transport.ts, ./device.ts.
 */
import { DeviceConfigError, type DeviceFactory } from '../../device.js';
import type { PropTable } from '../../../sim/props.js';
import { InputError } from '../../../sim/errors.js';
import { NETWORK_PROP, attachNetwork, type AttachedNetwork } from '../../../net/attach.js';
import { parseMac } from '../../../net/proto/bytes.js';
import { PCI_GUEST_ERRORS } from '../../pci/guest-errors.js';
import { VIRTIO_GUEST_ERRORS } from '../transport/guest-errors.js';
import { VIRTIO_PCI_DEVICE_BASE, VIRTIO_PCI_VENDOR } from '../transport/regs.js';
import { VirtioNet, type VirtioNetConfig } from './device.js';
import { virtioNetDecoder } from './decode.js';
import { VIRTIO_NET_GUEST_ERRORS } from './guest-errors.js';
import { NET_CLASS_CODE, VIRTIO_ID_NET } from './regs.js';

export { VirtioNet } from './device.js';
export { virtioNetDecoder } from './decode.js';

/** MTU without a network file (and the smallest the spec allows, 5.1.4.1). */
const DEFAULT_MTU = 1500;
const MIN_MTU = 68;

export const virtioNetProps = {
  network: NETWORK_PROP,
  mac: { type: 'string', default: '52:54:00:12:34:56', doc: 'MAC address in config.mac (VIRTIO_NET_F_MAC), "aa:bb:cc:dd:ee:ff"; unicast, not all zero' },
  mtu: {
    type: 'number', default: 0, integer: true, min: 0, max: 65535,
    doc: 'config.mtu (VIRTIO_NET_F_MTU): largest IP packet, 68 up to the link\'s MTU (0 = the link\'s MTU, 1500 without a network); frames up to mtu + 14 bytes',
  },
  queueSize: {
    type: 'number', default: 256, integer: true, min: 2, max: 32768,
    doc: 'Largest queue_size of each queue (a power of 2); also its reset value',
  },
  msixVectors: {
    type: 'number', default: 0, integer: true, min: 0, max: 2048,
    doc: 'MSI-X table entries (0 = one per queue plus the config vector)',
  },
  mrgRxbuf: { type: 'boolean', default: true, doc: 'Offer VIRTIO_NET_F_MRG_RXBUF: a received frame may span several receive buffers (num_buffers)' },
  csum: { type: 'boolean', default: true, doc: 'Offer VIRTIO_NET_F_CSUM: the device completes transmit checksums marked NEEDS_CSUM' },
  guestCsum: { type: 'boolean', default: true, doc: 'Offer VIRTIO_NET_F_GUEST_CSUM: received frames are marked DATA_VALID (checksums verified)' },
  ctrlVq: {
    type: 'boolean', default: true,
    doc: 'Offer VIRTIO_NET_F_CTRL_VQ with CTRL_RX and CTRL_MAC_ADDR: a control queue (2) for promiscuous / all-multicast mode, the MAC filter table and the MAC address',
  },
  indirectDesc: { type: 'boolean', default: true, doc: 'Offer VIRTIO_F_INDIRECT_DESC' },
  eventIdx: { type: 'boolean', default: true, doc: 'Offer VIRTIO_F_EVENT_IDX (used_event / avail_event suppression)' },
  rxFifoFrames: {
    type: 'number', default: 0, integer: true, min: 0, max: 1024,
    doc: 'Received frames the device holds while no receive buffer is posted, delivered when the driver posts some (0 = drop at once, counted in rxDropped)',
  },
  rxMaxBuffers: {
    type: 'number', default: 64, integer: true, min: 1, max: 1024,
    doc: 'Most receive buffers one frame may span with MRG_RXBUF (num_buffers); a frame needing more is dropped as a guest error',
  },
} as const satisfies PropTable;

export const virtioNetFactory: DeviceFactory<typeof virtioNetProps> = {
  type: 'virtio-net',
  description: 'virtio 1.2 network device over the modern virtio PCI transport, on a simulated Ethernet link to a peer host',
  props: virtioNetProps,
  pciIds: { vendorId: VIRTIO_PCI_VENDOR, deviceId: VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET, classCode: NET_CLASS_CODE },
  decoder: virtioNetDecoder,
  guestErrors: { ...PCI_GUEST_ERRORS, ...VIRTIO_GUEST_ERRORS, ...VIRTIO_NET_GUEST_ERRORS },
  create(ctx, props) {
    const mac = parseMac(props.mac);
    if (mac === undefined) throw new DeviceConfigError('mac', `must be six hex bytes "aa:bb:cc:dd:ee:ff", got ${JSON.stringify(props.mac)}`);
    if ((mac[0]! & 1) !== 0) throw new DeviceConfigError('mac', `${props.mac} is a multicast address; a NIC's address is unicast`);
    if (mac.every((b) => b === 0)) throw new DeviceConfigError('mac', 'must not be all zero');
    if ((props.queueSize & (props.queueSize - 1)) !== 0) {
      throw new DeviceConfigError('queueSize', `must be a power of 2, got ${props.queueSize}`);
    }
    let net: AttachedNetwork | undefined;
    try {
      net = props.network === '' ? undefined : attachNetwork(ctx, props.network);
    } catch (e) {
      if (e instanceof InputError) throw new DeviceConfigError('network', e.message);
      throw e;
    }
    const linkMtu = net?.port.mtu ?? DEFAULT_MTU;
    const mtu = props.mtu === 0 ? linkMtu : props.mtu;
    if (mtu < MIN_MTU || (net !== undefined && mtu > linkMtu)) {
      throw new DeviceConfigError('mtu', `must be ${MIN_MTU}..${net === undefined ? 65535 : `${linkMtu} (the link's MTU in ${props.network})`}, got ${mtu}`);
    }
    const numQueues = props.ctrlVq ? 3 : 2;
    const cfg: VirtioNetConfig = {
      mac,
      mtu,
      queueSize: props.queueSize,
      msixVectors: props.msixVectors === 0 ? numQueues + 1 : props.msixVectors,
      mrgRxbuf: props.mrgRxbuf,
      csum: props.csum,
      guestCsum: props.guestCsum,
      ctrlVq: props.ctrlVq,
      indirectDesc: props.indirectDesc,
      eventIdx: props.eventIdx,
      rxFifoFrames: props.rxFifoFrames,
      rxMaxBuffers: props.rxMaxBuffers,
    };
    return new VirtioNet(ctx, cfg, net);
  },
};
