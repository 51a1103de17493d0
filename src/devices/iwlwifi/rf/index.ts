/** The simulated radio environment: environment files, 802.11 frames, Ethernet payloads, APs and the air. */
export * from './types.js';
export * from './environment.js';
export * from './frames.js';
export * from './net.js';
export * from './ap.js';
export * from './air.js';
