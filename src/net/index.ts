/**
 * The simulated network a NIC device model plugs into: an Ethernet link
 * (./link.ts) with a peer host at the far end (./peer-host.ts), described by
 * a network file (./config.ts, fixtures/networks/*.json). Devices use
 * `attachNetwork` (./attach.ts) and the `EthernetPort` interface (./port.ts).
 */
export * from './port.js';
export * from './link.js';
export * from './config.js';
export * from './peer-host.js';
export * from './attach.js';
