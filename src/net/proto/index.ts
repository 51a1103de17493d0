/** Minimal Ethernet/ARP/IPv4/ICMP/UDP codecs for the simulated network (src/net). */
export * from './bytes.js';
export * from './checksum.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './icmp.js';
export * from './udp.js';
