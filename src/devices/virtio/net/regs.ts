/**
 * The model's own definitions of the virtio network device (virtio 1.2
 * 5.1): feature bits, the virtio_net_hdr, the configuration layout, the
 * control virtqueue's classes and commands. Written from the
 * specification; drivers keep their own copies.
 */

/** virtio device type of a network device (5.1.1); PCI device id 0x1041. */
export const VIRTIO_ID_NET = 1;
/** PCI class: network controller, Ethernet. */
export const NET_CLASS_CODE = 0x020000;

// ---- Feature bits (5.1.3) ------------------------------------------------------
export const NET_F_CSUM = 0;
export const NET_F_GUEST_CSUM = 1;
export const NET_F_CTRL_GUEST_OFFLOADS = 2;
export const NET_F_MTU = 3;
export const NET_F_MAC = 5;
export const NET_F_GUEST_TSO4 = 7;
export const NET_F_GUEST_TSO6 = 8;
export const NET_F_GUEST_ECN = 9;
export const NET_F_GUEST_UFO = 10;
export const NET_F_HOST_TSO4 = 11;
export const NET_F_HOST_TSO6 = 12;
export const NET_F_HOST_ECN = 13;
export const NET_F_HOST_UFO = 14;
export const NET_F_MRG_RXBUF = 15;
export const NET_F_STATUS = 16;
export const NET_F_CTRL_VQ = 17;
export const NET_F_CTRL_RX = 18;
export const NET_F_CTRL_VLAN = 19;
export const NET_F_CTRL_RX_EXTRA = 20;
export const NET_F_GUEST_ANNOUNCE = 21;
export const NET_F_MQ = 22;
export const NET_F_CTRL_MAC_ADDR = 23;
export const NET_F_SPEED_DUPLEX = 63;

export const NET_FEATURE_NAMES: Readonly<Record<number, string>> = {
  [NET_F_CSUM]: 'CSUM', [NET_F_GUEST_CSUM]: 'GUEST_CSUM', [NET_F_CTRL_GUEST_OFFLOADS]: 'CTRL_GUEST_OFFLOADS',
  [NET_F_MTU]: 'MTU', [NET_F_MAC]: 'MAC', [NET_F_GUEST_TSO4]: 'GUEST_TSO4', [NET_F_GUEST_TSO6]: 'GUEST_TSO6',
  [NET_F_GUEST_ECN]: 'GUEST_ECN', [NET_F_GUEST_UFO]: 'GUEST_UFO', [NET_F_HOST_TSO4]: 'HOST_TSO4',
  [NET_F_HOST_TSO6]: 'HOST_TSO6', [NET_F_HOST_ECN]: 'HOST_ECN', [NET_F_HOST_UFO]: 'HOST_UFO',
  [NET_F_MRG_RXBUF]: 'MRG_RXBUF', [NET_F_STATUS]: 'STATUS', [NET_F_CTRL_VQ]: 'CTRL_VQ', [NET_F_CTRL_RX]: 'CTRL_RX',
  [NET_F_CTRL_VLAN]: 'CTRL_VLAN', [NET_F_CTRL_RX_EXTRA]: 'CTRL_RX_EXTRA', [NET_F_GUEST_ANNOUNCE]: 'GUEST_ANNOUNCE',
  [NET_F_MQ]: 'MQ', [NET_F_CTRL_MAC_ADDR]: 'CTRL_MAC_ADDR', [NET_F_SPEED_DUPLEX]: 'SPEED_DUPLEX',
};

// ---- struct virtio_net_hdr (5.1.6) --------------------------------------------------
/** Header size with VERSION_1 (num_buffers always present). */
export const NET_HDR_SIZE = 12;
export const HDR_FLAGS = 0;
export const HDR_GSO_TYPE = 1;
export const HDR_HDR_LEN = 2;
export const HDR_GSO_SIZE = 4;
export const HDR_CSUM_START = 6;
export const HDR_CSUM_OFFSET = 8;
export const HDR_NUM_BUFFERS = 10;

export const HDR_F_NEEDS_CSUM = 1;
export const HDR_F_DATA_VALID = 2;
export const HDR_F_RSC_INFO = 4;

export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_UDP = 3;
export const GSO_TCPV6 = 4;
export const GSO_UDP_L4 = 5;
export const GSO_ECN = 0x80;

export function gsoTypeName(t: number): string {
  const base = t & ~GSO_ECN;
  const name = base === GSO_NONE ? 'NONE' : base === GSO_TCPV4 ? 'TCPV4' : base === GSO_UDP ? 'UDP'
    : base === GSO_TCPV6 ? 'TCPV6' : base === GSO_UDP_L4 ? 'UDP_L4' : `gso${base}`;
  return (t & GSO_ECN) !== 0 ? `${name}|ECN` : name;
}

export function hdrFlagNames(f: number): string {
  const parts: string[] = [];
  if (f & HDR_F_NEEDS_CSUM) parts.push('NEEDS_CSUM');
  if (f & HDR_F_DATA_VALID) parts.push('DATA_VALID');
  if (f & HDR_F_RSC_INFO) parts.push('RSC_INFO');
  const other = f & ~7;
  if (other !== 0) parts.push(`0x${other.toString(16)}`);
  return parts.length === 0 ? '0' : parts.join('|');
}

// ---- Configuration layout (5.1.4) ----------------------------------------------------
export const CFG_MAC = 0;
export const CFG_STATUS = 6;
export const CFG_MAX_VIRTQUEUE_PAIRS = 8;
export const CFG_MTU = 10;
export const CFG_SPEED = 12;
export const CFG_DUPLEX = 16;
export const CFG_RSS_MAX_KEY_SIZE = 17;
export const CFG_RSS_MAX_INDIRECTION_TABLE_LENGTH = 18;
export const CFG_SUPPORTED_HASH_TYPES = 20;
/** Bytes exposed: through supported_hash_types (RSS and hash reporting are not offered: zeroes). */
export const NET_CONFIG_SIZE = 24;

export const NET_S_LINK_UP = 1;
export const NET_S_ANNOUNCE = 2;
/** speed: unknown (no cable). */
export const SPEED_UNKNOWN = 0xffffffff;
export const DUPLEX_FULL = 1;
export const DUPLEX_UNKNOWN = 0xff;

/** Field names of the configuration for traces: [offset, size, name]. */
export const NET_CONFIG_FIELDS: ReadonlyArray<readonly [number, number, string]> = [
  [CFG_MAC, 6, 'mac'], [CFG_STATUS, 2, 'status'], [CFG_MAX_VIRTQUEUE_PAIRS, 2, 'max_virtqueue_pairs'], [CFG_MTU, 2, 'mtu'],
  [CFG_SPEED, 4, 'speed'], [CFG_DUPLEX, 1, 'duplex'], [CFG_RSS_MAX_KEY_SIZE, 1, 'rss_max_key_size'],
  [CFG_RSS_MAX_INDIRECTION_TABLE_LENGTH, 2, 'rss_max_indirection_table_length'], [CFG_SUPPORTED_HASH_TYPES, 4, 'supported_hash_types'],
];

export function netConfigFieldName(offset: number): string | undefined {
  for (const [off, size, name] of NET_CONFIG_FIELDS) {
    if (offset >= off && offset < off + size) return offset === off ? name : `${name}+${offset - off}`;
  }
  return undefined;
}

// ---- Queues (5.1.2) ------------------------------------------------------------------
export const RX_QUEUE = 0;
export const TX_QUEUE = 1;
/** The control queue's index without MQ (2N with N = 1 queue pair). */
export const CTRL_QUEUE = 2;

// ---- Control virtqueue (5.1.6.5) ---------------------------------------------------------
export const CTRL_OK = 0;
export const CTRL_ERR = 1;

export const CTRL_CLASS_RX = 0;
export const CTRL_RX_PROMISC = 0;
export const CTRL_RX_ALLMULTI = 1;
export const CTRL_RX_ALLUNI = 2;
export const CTRL_RX_NOMULTI = 3;
export const CTRL_RX_NOUNI = 4;
export const CTRL_RX_NOBCAST = 5;

export const CTRL_CLASS_MAC = 1;
export const CTRL_MAC_TABLE_SET = 0;
export const CTRL_MAC_ADDR_SET = 1;

export const CTRL_CLASS_VLAN = 2;
export const CTRL_CLASS_ANNOUNCE = 3;
export const CTRL_CLASS_MQ = 4;
export const CTRL_CLASS_GUEST_OFFLOADS = 5;

/** Entries per MAC filter table kept (unicast, multicast); more set the table's overflow (accept all of that kind), as QEMU does. */
export const MAC_TABLE_ENTRIES = 64;

export function ctrlCommandName(cls: number, cmd: number): string {
  switch (cls) {
    case CTRL_CLASS_RX: {
      const names = ['PROMISC', 'ALLMULTI', 'ALLUNI', 'NOMULTI', 'NOUNI', 'NOBCAST'];
      return `RX.${names[cmd] ?? `cmd${cmd}`}`;
    }
    case CTRL_CLASS_MAC: return `MAC.${cmd === CTRL_MAC_TABLE_SET ? 'TABLE_SET' : cmd === CTRL_MAC_ADDR_SET ? 'ADDR_SET' : `cmd${cmd}`}`;
    case CTRL_CLASS_VLAN: return `VLAN.cmd${cmd}`;
    case CTRL_CLASS_ANNOUNCE: return `ANNOUNCE.cmd${cmd}`;
    case CTRL_CLASS_MQ: return `MQ.cmd${cmd}`;
    case CTRL_CLASS_GUEST_OFFLOADS: return `GUEST_OFFLOADS.cmd${cmd}`;
    default: return `class${cls}.cmd${cmd}`;
  }
}

/** "52:54:00:12:34:56" from 6 bytes at `off`. */
export function macString(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[off + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}
