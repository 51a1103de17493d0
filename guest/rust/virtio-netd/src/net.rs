//! The virtio network device's own definitions (virtio 1.2 5.1), written
//! from the specification's text: device id, feature bits (5.1.3), the
//! device configuration layout (5.1.4), the per-packet header
//! `virtio_net_hdr` (5.1.6) and the queue indices (5.1.2).

#![allow(dead_code)] // the specification's definitions, not all of them used
/// Virtio device id of a network card (5: "Device Types"); PCI device 0x1040 + 1.
pub const VIRTIO_ID_NET: u16 = 1;

// ---- Queues (5.1.2): receiveq1 = 0, transmitq1 = 1 (no MQ); controlq after them.
pub const RX_QUEUE: u16 = 0;
pub const TX_QUEUE: u16 = 1;

// ---- Feature bits (5.1.3), as masks of the 64-bit feature set
/// Device handles packets with partial checksum (transmit offload).
pub const F_CSUM: u64 = 1 << 0;
/// Driver handles packets with partial checksum; the device may mark received packets DATA_VALID.
pub const F_GUEST_CSUM: u64 = 1 << 1;
pub const F_CTRL_GUEST_OFFLOADS: u64 = 1 << 2;
/// config.mtu is valid.
pub const F_MTU: u64 = 1 << 3;
/// config.mac is valid.
pub const F_MAC: u64 = 1 << 5;
pub const F_GUEST_TSO4: u64 = 1 << 7;
pub const F_GUEST_TSO6: u64 = 1 << 8;
pub const F_GUEST_ECN: u64 = 1 << 9;
pub const F_GUEST_UFO: u64 = 1 << 10;
pub const F_HOST_TSO4: u64 = 1 << 11;
pub const F_HOST_TSO6: u64 = 1 << 12;
pub const F_HOST_ECN: u64 = 1 << 13;
pub const F_HOST_UFO: u64 = 1 << 14;
/// Driver can merge receive buffers (num_buffers in the header).
pub const F_MRG_RXBUF: u64 = 1 << 15;
/// config.status is valid.
pub const F_STATUS: u64 = 1 << 16;
pub const F_CTRL_VQ: u64 = 1 << 17;
pub const F_CTRL_RX: u64 = 1 << 18;
pub const F_CTRL_VLAN: u64 = 1 << 19;
pub const F_GUEST_ANNOUNCE: u64 = 1 << 21;
pub const F_MQ: u64 = 1 << 22;
pub const F_CTRL_MAC_ADDR: u64 = 1 << 23;
pub const F_SPEED_DUPLEX: u64 = 1 << 63;

/// Names of the network feature bits, for logs.
pub const FEATURE_NAMES: [(u64, &str); 22] = [
    (F_CSUM, "CSUM"), (F_GUEST_CSUM, "GUEST_CSUM"), (F_CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS"), (F_MTU, "MTU"),
    (F_MAC, "MAC"), (F_GUEST_TSO4, "GUEST_TSO4"), (F_GUEST_TSO6, "GUEST_TSO6"), (F_GUEST_ECN, "GUEST_ECN"),
    (F_GUEST_UFO, "GUEST_UFO"), (F_HOST_TSO4, "HOST_TSO4"), (F_HOST_TSO6, "HOST_TSO6"), (F_HOST_ECN, "HOST_ECN"),
    (F_HOST_UFO, "HOST_UFO"), (F_MRG_RXBUF, "MRG_RXBUF"), (F_STATUS, "STATUS"), (F_CTRL_VQ, "CTRL_VQ"),
    (F_CTRL_RX, "CTRL_RX"), (F_CTRL_VLAN, "CTRL_VLAN"), (F_GUEST_ANNOUNCE, "GUEST_ANNOUNCE"), (F_MQ, "MQ"),
    (F_CTRL_MAC_ADDR, "CTRL_MAC_ADDR"), (F_SPEED_DUPLEX, "SPEED_DUPLEX"),
];

// ---- Device configuration (5.1.4): struct virtio_net_config, byte offsets
pub const CFG_MAC: usize = 0; // u8[6]
pub const CFG_STATUS: usize = 6; // le16 (F_STATUS)
pub const CFG_MAX_VIRTQUEUE_PAIRS: usize = 8; // le16 (F_MQ)
pub const CFG_MTU: usize = 10; // le16 (F_MTU)

/// config.status bits.
pub const S_LINK_UP: u16 = 1;
pub const S_ANNOUNCE: u16 = 2;

// ---- struct virtio_net_hdr (5.1.6): 12 bytes with VERSION_1 (num_buffers always present)
pub const HDR_LEN: usize = 12;
pub const HDR_FLAGS: usize = 0; // u8
pub const HDR_GSO_TYPE: usize = 1; // u8
pub const HDR_NUM_BUFFERS: usize = 10; // le16
pub const HDR_F_NEEDS_CSUM: u8 = 1;
pub const HDR_F_DATA_VALID: u8 = 2;
pub const GSO_NONE: u8 = 0;

// ---- Ethernet
pub const ETH_HLEN: usize = 14;
pub const ETH_ALEN: usize = 6;
/// Payload limit without F_MTU (and the usual one).
pub const DEFAULT_MTU: u16 = 1500;
/// Smallest MTU the specification allows a device to report (5.1.4.1).
pub const MIN_MTU: u16 = 68;
/// A VLAN tag a received frame may carry beyond mtu + 14.
pub const VLAN_HLEN: usize = 4;
